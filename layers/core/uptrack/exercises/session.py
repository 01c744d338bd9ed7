"""PoseTracker messages for one analysed clip (contract §3.5–§3.14), in video-time order.

Order: `posture` until the exercise starts, `progression` through each attempt or into the hold (when asked,
`uptrack.exercises.progression`), then per counted rep a `counter` (carrying the authoritative `form_score`, with
the criteria that made it and the one that failed) and a convenience `form_score` message, `recommendations` after
an attempt whose cues fired (when asked), and at the end the `counter` with `final: true` and the
`exercise_summary`. `minGrade` is applied here: reps below it are not counted, send no counter and no form_score,
and the kept reps are numbered 1, 2, 3... Holds count whole seconds and ignore it.
"""

from __future__ import annotations

from collections.abc import Sequence

from uptrack.contract.grades import grade_at_least, grade_for
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    CriterionScore,
    ExerciseSummaryMessage,
    FormScore,
    FormScoreMessage,
    PostureMessage,
    ProgressionMessage,
    RecommendationsMessage,
    RepSummary,
    WarningMessage,
)
from uptrack.contract.params import AnalysisRequest, effective_min_grade
from uptrack.exercises.analysis import ExerciseAnalysis, PostureState, RepResult, analyze_exercise
from uptrack.exercises.catalogue import ExerciseDefinition
from uptrack.exercises.grading import failed_criterion
from uptrack.pose.series import PoseSeries

_DIRECTIONS = {frozenset({"front"}): "face-camera", frozenset({"side"}): "profile-camera"}
_POSITION_HINTS = {
    "upright": "Stand up straight to start.",
    "horizontal": "Get down into position on the floor to start.",
    "hanging": "Hang from the bar with straight arms to start.",
    "any": "Get into the start position.",
}


def exercise_messages(series: PoseSeries, request: AnalysisRequest, exercise: ExerciseDefinition) -> list[BaseMessage]:
    """Every message for `exercise` on a smoothed series, honouring difficulty, minGrade and the opt-in outputs."""
    analysis = analyze_exercise(series, exercise, request.difficulty)
    return messages_for(analysis, request, exercise)


def messages_for(
    analysis: ExerciseAnalysis, request: AnalysisRequest, exercise: ExerciseDefinition
) -> list[BaseMessage]:
    """Messages for an existing analysis (lets callers analyse once and emit for several requests)."""
    timed: list[tuple[int, int, BaseMessage]] = [(p.timestamp_ms, 0, _posture(p, exercise)) for p in analysis.posture]
    if request.progression:  # before the counter of the same instant: 100 comes as the rep is counted
        timed.extend((t, 1, ProgressionMessage(value=v, timestamp_ms=t)) for t, v in analysis.progression)
    if exercise.is_duration:
        body, final = _hold_messages(analysis)
    else:
        body, final = _rep_messages(analysis, kept_reps(analysis, request, exercise), exercise)
    timed.extend((m.timestamp_ms or 0, 2, m) for m in body)
    timed.extend((start, 2, _mismatch(start, end, exercise)) for start, end in analysis.mismatches)
    if request.recommendations:
        timed.extend((t, 3, RecommendationsMessage.of(cues, timestamp_ms=t)) for t, cues in _cue_events(analysis))
    ordered = [m for _, _, m in sorted(timed, key=lambda item: (item[0], item[1]))]
    return ordered + final


def kept_reps(analysis: ExerciseAnalysis, request: AnalysisRequest, exercise: ExerciseDefinition) -> list[RepResult]:
    """Counted reps that clear the request's effective `minGrade` (holds and images have no bar: all are kept)."""
    bar = effective_min_grade(request, exercise.is_duration)
    return [r for r in analysis.reps if grade_at_least(r.grade, bar)]


def _mismatch(start_ms: int, end_ms: int, exercise: ExerciseDefinition) -> WarningMessage:
    return WarningMessage.of(
        "exercise_mismatch",
        f"From {start_ms / 1000:.1f} s to {end_ms / 1000:.1f} s the movement did not look like "
        f"{exercise.name.lower()}: "
        "nothing was counted there. Check the exercise chosen for this video.",
        timestamp_ms=start_ms,
    )


def _posture(state: PostureState, exercise: ExerciseDefinition) -> PostureMessage:
    if state.missing:
        parts = ", ".join(sorted({group.label for group in state.missing}))
        return PostureMessage(
            message=f"Move so that your {parts} are in the frame.",
            direction="in-frame",
            ready=False,
            requirements=[name for group in state.missing for name in group.names],
            timestamp_ms=state.timestamp_ms,
        )
    if not state.in_posture:
        return PostureMessage(
            message=_POSITION_HINTS[exercise.posture],
            direction=_DIRECTIONS.get(exercise.views, "in-frame"),
            ready=False,
            requirements=[f"{exercise.posture}_posture"],
            timestamp_ms=state.timestamp_ms,
        )
    if state.cues:
        return PostureMessage(
            message=" ".join(state.cues),
            direction="in-frame",
            ready=False,
            requirements=list(state.unmet),
            timestamp_ms=state.timestamp_ms,
        )
    return PostureMessage(
        message="Ready: you can start.", direction="in-frame", ready=True, timestamp_ms=state.timestamp_ms
    )


def rep_form(rep: RepResult, avg_score: float, exercise: ExerciseDefinition) -> FormScore:
    """A rep's form score with the criteria that made it and the one that failed (if any)."""
    criteria = [
        CriterionScore(name=name, label=exercise.criterion_label(name), score=score, bar=exercise.criterion_bar(name))
        for name, score in rep.criteria.items()
    ]
    return FormScore.of(rep.score, avg_score, criteria, failed_criterion(exercise, rep.criteria))


def _rep_messages(
    analysis: ExerciseAnalysis, reps: Sequence[RepResult], exercise: ExerciseDefinition
) -> tuple[list[BaseMessage], list[BaseMessage]]:
    """Per kept rep: counter + form_score at the moment it completed; then the final counter and the summary."""
    body: list[BaseMessage] = []
    history: list[RepSummary] = []
    total = 0.0
    form: FormScore | None = None
    for index, rep in enumerate(reps, start=1):
        total += rep.score
        form = rep_form(rep, total / index, exercise)
        body.append(CounterMessage(current_count=index, form_score=form, timestamp_ms=rep.end_ms))
        body.append(FormScoreMessage.of(form, timestamp_ms=rep.end_ms))
        history.append(
            RepSummary(
                index=index,
                score=rep.score,
                grade=rep.grade,
                form_score=form,
                start_ms=rep.start_ms,
                end_ms=rep.end_ms,
                duration_ms=rep.duration_ms,
            )
        )
    average = round(total / len(reps), 1) if reps else None
    end = analysis.duration_ms
    final: list[BaseMessage] = [
        CounterMessage(current_count=len(reps), final=True, form_score=form, timestamp_ms=end),
        ExerciseSummaryMessage(
            exercise=analysis.exercise,
            counter=len(reps),
            avg_rep_score=average,
            grade=grade_for(average) if average is not None else None,
            duration_ms=end,
            history=history,
            timestamp_ms=end,
        ),
    ]
    return body, final


def _hold_messages(analysis: ExerciseAnalysis) -> tuple[list[BaseMessage], list[BaseMessage]]:
    """A counter each whole second held; the final counter and summary carry the hold's quality score."""
    body: list[BaseMessage] = [
        CounterMessage(current_count=second, timestamp_ms=t) for second, t in enumerate(analysis.hold_ticks_ms, 1)
    ]
    score = analysis.hold_score
    form = FormScore.of(score, score) if score is not None else None
    end = analysis.duration_ms
    final: list[BaseMessage] = [
        CounterMessage(current_count=analysis.hold_seconds, final=True, form_score=form, timestamp_ms=end),
        ExerciseSummaryMessage(
            exercise=analysis.exercise,
            counter=analysis.hold_seconds,
            avg_rep_score=score,
            grade=grade_for(score) if score is not None else None,
            duration_ms=end,
            timestamp_ms=end,
        ),
    ]
    return body, final


def _cue_events(analysis: ExerciseAnalysis) -> list[tuple[int, tuple[str, ...]]]:
    """(time, cues) after every attempt whose rules fired; for a hold, once at its end."""
    if analysis.kind == "duration":
        return [(analysis.duration_ms, analysis.hold_cues)] if analysis.hold_cues else []
    return [(r.end_ms, r.cues) for r in analysis.candidates if r.cues]
