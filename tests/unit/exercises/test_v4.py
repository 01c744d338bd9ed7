"""V4 grading: the E band, the depth-only squat, no recommendations, and the physical test's `counter.analysis`."""

from __future__ import annotations

import pytest
from uptrack.contract.grades import grade_for
from uptrack.contract.messages import CounterMessage, ExerciseSummaryMessage, FormScoreMessage, RecommendationsMessage
from uptrack.contract.params import AnalysisRequest, uses_v4
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.engines import exercise_run_messages
from uptrack.pose.series import PoseSeries

from tests.unit.exercises.catalogue_motions import back_bend
from tests.unit.exercises.stick_figures import series, squat_knees, standing
from tests.unit.exercises.test_exercise_motions import performance


@pytest.mark.parametrize(("score", "v3", "v4"), [(95, "A", "A"), (65, "D", "D"), (55, "F", "E"), (40, "F", "E"),
                                                 (39.9, "F", "F")])  # fmt: skip
def test_v4_adds_e_between_d_and_f(score: float, v3: str, v4: str) -> None:
    assert (grade_for(score), grade_for(score, v4=True)) == (v3, v4)


def test_v4_only_ids_and_the_physical_test_run_on_v4_whatever_the_engine() -> None:
    assert uses_v4(AnalysisRequest(exercise="shoulder_roll"))
    assert uses_v4(AnalysisRequest(exercise="back_flexibility_test"))
    assert uses_v4(AnalysisRequest(exercise="squat", engine="v4"))
    assert not uses_v4(AnalysisRequest(exercise="squat"))


def _run(clip: PoseSeries, request: AnalysisRequest) -> list[object]:
    return list(exercise_run_messages(clip, clip, request))


def test_v4_squat_is_graded_on_depth_only_and_sends_no_recommendations() -> None:
    clip = series([standing(k) for k in squat_knees([105, 90])])
    request = AnalysisRequest(exercise="squat", engine="v4", difficulty="easy", recommendations=True)
    messages = _run(clip, request)
    counters = [m for m in messages if isinstance(m, CounterMessage) and not m.final]
    scores = [c.form_score.score for c in counters if c.form_score]
    assert scores == pytest.approx([75.0, 100.0], abs=0.5)  # knee 105° and 90°, side view
    assert [c.form_score.grade for c in counters if c.form_score] == ["C", "A"]
    assert [[(k.name, k.score) for k in c.form_score.criteria or []] for c in counters if c.form_score] == [
        [("depth", s)] for s in scores
    ]  # V4 grades this on depth alone: its one criterion
    assert not [m for m in messages if isinstance(m, RecommendationsMessage)]
    summary = next(m for m in messages if isinstance(m, ExerciseSummaryMessage))
    assert [r.grade for r in summary.history] == ["C", "A"] and summary.grade == "B"
    v3 = _run(clip, request.model_copy(update={"engine": "v3"}))
    assert [m.score for m in v3 if isinstance(m, FormScoreMessage)] != [75.0, 100.0]
    assert any(isinstance(m, RecommendationsMessage) for m in v3)


def test_back_flexibility_test_counter_carries_the_analysis_block() -> None:
    clip = series(performance(back_bend, [1.0], 3.0))
    messages = _run(clip, AnalysisRequest(exercise="back_flexibility_test", device_pitch_deg=0.0))
    counters = [m for m in messages if isinstance(m, CounterMessage)]
    assert [c.current_count for c in counters] == [1, 1]
    block = counters[0].analysis
    assert block is not None and counters[-1].analysis == block
    assert block.peaks["trunk_angle_deg"] == pytest.approx(50.0, abs=1.5)
    assert block.camera.placement == "mid" and block.camera.bias == "none"
    assert block.interpretation.tone == "partial" and block.method and block.disclaimer
    assert counters[0].form_score is not None and counters[0].form_score.grade == "E"
    summary = next(m for m in messages if isinstance(m, ExerciseSummaryMessage))
    assert summary.method == block.method and summary.disclaimer and summary.history[0].analysis == block


def test_the_physical_test_is_a_catalogue_repetition() -> None:
    assert get_exercise("back_flexibility_test").kind == "repetition"
