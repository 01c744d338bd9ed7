"""Messages for an analysed clip: order, timestamps, minGrade filtering and renumbering, opt-in outputs, holds."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from uptrack.contract.grades import grade_for
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    ExerciseSummaryMessage,
    FormScoreMessage,
    PostureMessage,
    ProgressionMessage,
    RecommendationsMessage,
    dump_message,
    parse_message,
)
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.analysis import ExerciseAnalysis, RepResult
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.session import exercise_messages, messages_for, rep_form

from tests.unit.exercises.stick_figures import forearm_plank, nobody, series, squat_knees, standing


def rep(score: float, start_ms: int, counted: bool = True, cues: tuple[str, ...] = ()) -> RepResult:
    return RepResult(
        start_ms=start_ms,
        peak_ms=start_ms + 500,
        end_ms=start_ms + 1000,
        peak_progress=1.3 if counted else 0.6,
        score=score,
        grade=grade_for(score),
        criteria={"depth": score},
        cues=cues,
        counted=counted,
        reason="counted" if counted else "shallow",
    )


ANALYSIS = ExerciseAnalysis(
    exercise="squat",
    kind="repetition",
    difficulty="medium",
    view="side",
    duration_ms=9000,
    candidates=(rep(95, 1000), rep(72, 3000), rep(50, 5000, counted=False, cues=("Go lower.",)), rep(85, 7000)),
    start_ms=1000,
    progression=((1200, 25.0), (1400, 50.0)),
)


T = TypeVar("T", bound=BaseMessage)


def of_type(messages: list[BaseMessage], kind: type[T]) -> list[T]:
    return [m for m in messages if isinstance(m, kind)]


def test_every_counted_rep_sends_counter_and_form_score_then_final_and_summary() -> None:
    messages = messages_for(ANALYSIS, AnalysisRequest(exercise="squat"), get_exercise("squat"))
    counters = of_type(messages, CounterMessage)
    assert [(c.current_count, c.final) for c in counters] == [(1, None), (2, None), (3, None), (3, True)]
    assert [c.form_score.score for c in counters if c.form_score] == [95, 72, 85, 85]
    assert [round(c.form_score.avg_score, 1) for c in counters if c.form_score] == [95, 83.5, 84, 84]
    assert len(of_type(messages, FormScoreMessage)) == 3
    *_, final, summary = messages
    assert isinstance(final, CounterMessage) and final.final
    assert isinstance(summary, ExerciseSummaryMessage) and summary.counter == 3 and summary.grade == "B"
    first = summary.history[0]
    assert (first.index, first.start_ms, first.end_ms, first.duration_ms) == (1, 1000, 2000, 1000)


def test_a_reps_form_lists_its_criteria_with_label_and_bar_and_names_the_one_it_failed() -> None:
    squat = get_exercise("squat")
    leaning = replace(rep(74, 1000), criteria={"depth": 90.0, "tempo": 100.0, "stability": 35.0, "symmetry": 60.0})
    form = rep_form(leaning, 80, squat)
    assert [(c.name, c.label, c.score, c.bar) for c in form.criteria or []] == [
        ("depth", "range of motion", 90.0, 85.0),
        ("tempo", "tempo", 100.0, 70.0),
        ("stability", "chest up", 35.0, 70.0),
        ("symmetry", "both knees alike", 60.0, 70.0),
    ]
    assert form.failed_criterion == "stability" and (form.score, form.avg_score, form.grade) == (74, 80, "C")
    assert rep_form(rep(95, 1000), 95, squat).failed_criterion is None


def test_every_rep_message_carries_the_reps_own_criteria() -> None:
    messages = messages_for(ANALYSIS, AnalysisRequest(exercise="squat"), get_exercise("squat"))
    kept = [r for r in ANALYSIS.candidates if r.counted]
    forms = of_type(messages, FormScoreMessage)
    assert [[c.score for c in f.criteria or []] for f in forms] == [[r.score] for r in kept]
    assert [f.failed_criterion for f in forms] == [None, "depth", None]  # depth 72 and 85 against a bar of 85
    summary = of_type(messages, ExerciseSummaryMessage)[0]
    assert [r.form_score.failed_criterion for r in summary.history if r.form_score] == [None, "depth", None]


def test_min_grade_drops_reps_below_it_and_renumbers_the_rest() -> None:
    request = AnalysisRequest(exercise="squat", min_grade="B")
    messages = messages_for(ANALYSIS, request, get_exercise("squat"))
    counters = of_type(messages, CounterMessage)
    assert [(c.current_count, c.timestamp_ms) for c in counters] == [(1, 2000), (2, 8000), (2, 9000)]
    assert [m.score for m in of_type(messages, FormScoreMessage)] == [95, 85]
    summary = of_type(messages, ExerciseSummaryMessage)[0]
    assert [h.index for h in summary.history] == [1, 2] and summary.avg_rep_score == 90


def test_progression_and_recommendations_only_when_asked() -> None:
    plain = messages_for(ANALYSIS, AnalysisRequest(exercise="squat"), get_exercise("squat"))
    assert not of_type(plain, ProgressionMessage) and not of_type(plain, RecommendationsMessage)
    asked = AnalysisRequest(exercise="squat", progression=True, recommendations=True)
    messages = messages_for(ANALYSIS, asked, get_exercise("squat"))
    assert [p.value for p in of_type(messages, ProgressionMessage)] == [25, 50]
    (cue,) = of_type(messages, RecommendationsMessage)
    assert cue.data == ["Go lower."] and cue.timestamp_ms == 6000


def test_real_analysis_messages_are_timed_ordered_and_valid_on_the_wire() -> None:
    frames = [nobody()] * 30 + [standing(knee) for knee in squat_knees([85, 90, 120])]
    request = AnalysisRequest(exercise="squat", progression=True, recommendations=True)
    messages = exercise_messages(series(frames), request, get_exercise("squat"))
    stamps = [m.timestamp_ms for m in messages]
    assert None not in stamps and stamps == sorted(stamps)  # type: ignore[type-var]
    postures = of_type(messages, PostureMessage)
    assert not postures[0].ready and postures[-1].ready
    assert messages.index(postures[-1]) < messages.index(of_type(messages, CounterMessage)[0])
    assert of_type(messages, CounterMessage)[-1].current_count == 2
    assert any("Go lower" in cue for m in of_type(messages, RecommendationsMessage) for cue in m.data)
    for message in messages:
        assert parse_message(dump_message(message)) == message


def test_hold_counts_seconds_and_ignores_min_grade() -> None:
    clip = series([forearm_plank()] * 100)
    messages = exercise_messages(clip, AnalysisRequest(exercise="plank", min_grade="A"), get_exercise("plank"))
    counters = of_type(messages, CounterMessage)
    assert [c.current_count for c in counters] == [1, 2, 3, 3]
    assert counters[-1].final and counters[-1].form_score is not None
    assert of_type(messages, ExerciseSummaryMessage)[0].counter == 3
