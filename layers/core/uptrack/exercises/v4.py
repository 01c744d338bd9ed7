"""PoseTracker's V4 engine (`engine=v4`, and the V4-only ids): the same reps and holds, graded the V4 way.

What changes against V3 (contract §2.2, §5.1):

* letters: V4 adds E (40–59), so F means below 40;
* no `recommendations`;
* `squat` is graded on depth only: from the front, the lower thigh's vertical extent over its length at the
  bottom (V4's `min_leg_ratio`, 100 at 0.12, 0 at 0.55); in profile, the knee angle (100 at 90°, 0 at 150°);
* the physical test (`back_flexibility_test`) scores the deepest trunk angle (100 at 75°, 0 at 22°) and its
  `counter` carries the `analysis` block: peaks, camera placement, method, interpretation.

Every other exercise keeps the engine's 0–100 score; only its letter follows the V4 bands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from uptrack.contract.grades import grade_for
from uptrack.contract.messages import (
    BaseMessage,
    CameraPlacement,
    CounterMessage,
    ExerciseSummaryMessage,
    FormScore,
    FormScoreMessage,
    Interpretation,
    PhysicalTestAnalysis,
    RepSummary,
)
from uptrack.contract.params import PHYSICAL_TESTS, AnalysisRequest
from uptrack.exercises.analysis import ExerciseAnalysis, RepResult, analyze_exercise
from uptrack.exercises.catalogue import ExerciseDefinition
from uptrack.exercises.grading import linear_score
from uptrack.exercises.session import messages_for
from uptrack.exercises.signals import compute_signals
from uptrack.pose.body import measure_body
from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DepthScore:
    """A V4 depth-only score: `signal` reduced over the rep by `reduce`, 100 at `ideal`, 0 at `worst`."""

    signal: str
    reduce: Literal["min", "max"]
    ideal: float
    worst: float


V4_SCORES: Final[Mapping[tuple[str, str], DepthScore]] = {
    ("squat", "front"): DepthScore("thigh_rise", "min", ideal=0.12, worst=0.55),
    ("squat", "side"): DepthScore("knee_angle", "min", ideal=90.0, worst=150.0),
    ("back_flexibility_test", "front"): DepthScore("torso_incline", "max", ideal=75.0, worst=22.0),
    ("back_flexibility_test", "side"): DepthScore("torso_incline", "max", ideal=75.0, worst=22.0),
}
"""V4's per-exercise metrics by camera view (from the vendor's own catalogue and physical-test docs)."""

PEAKS: Final[Mapping[str, tuple[str, Literal["min", "max"]]]] = {
    "trunk_angle_deg": ("torso_incline", "max"),
    "hip_angle_deg": ("hip_angle", "min"),
    "knee_angle_deg": ("knee_angle", "min"),
}
"""Physical-test peaks reported in `analysis.peaks`: the deepest value of each angle during the test."""

METHOD: Final = (
    "Side view: the trunk's angle from vertical (hip to shoulder) at the deepest point of one forward bend, "
    "with the hip and knee angles at their deepest; scored 100 at 75 degrees, 0 at 22 degrees."
)
DISCLAIMER: Final = (
    "An estimate from a 2-D video for information only: it is not a medical assessment. Stop if the bend hurts."
)
_SIGNALS: Final = frozenset({s.signal for s in V4_SCORES.values()} | {signal for signal, _ in PEAKS.values()})


def v4_messages(series: PoseSeries, request: AnalysisRequest, exercise: ExerciseDefinition) -> list[BaseMessage]:
    """Every message for `exercise` on a smoothed series, graded as V4 grades it."""
    analysis = analyze_exercise(series, exercise, request.difficulty)
    signals = _signals(series)
    analysis = rescore(analysis, signals)
    messages = messages_for(analysis, request.model_copy(update={"recommendations": False}), exercise)
    messages = [_v4_letters(m) for m in messages]
    if exercise.id in PHYSICAL_TESTS:
        messages = _with_test_analysis(messages, analysis, signals, request.device_pitch_deg)
    return messages


def rescore(analysis: ExerciseAnalysis, signals: Mapping[str, Floats]) -> ExerciseAnalysis:
    """Every attempt with its V4 score (depth-only where V4 defines a metric, so depth is its one criterion) and
    V4 letter."""
    depth = V4_SCORES.get((analysis.exercise, analysis.view))
    times_ms = signals["times_ms"]

    def v4(rep: RepResult) -> RepResult:
        if depth is None:
            return replace(rep, grade=grade_for(rep.score, v4=True))
        value = _reduce(signals[depth.signal], times_ms, rep, depth.reduce)
        score = round(linear_score(value, depth.ideal, depth.worst), 1) if np.isfinite(value) else 0.0
        return replace(rep, score=score, grade=grade_for(score, v4=True), criteria={"depth": score})

    return replace(analysis, candidates=tuple(v4(r) for r in analysis.candidates))


def _signals(series: PoseSeries) -> dict[str, Floats]:
    body = measure_body(series.coco, series.width, series.height)
    return {**compute_signals(body, _SIGNALS), "times_ms": series.timestamp_ms.astype(np.float64)}


def _reduce(values: Floats, times_ms: Floats, rep: RepResult, how: Literal["min", "max"]) -> float:
    """`how` of a signal over the rep's span (NaN when it was never seen)."""
    span = values[(times_ms >= rep.start_ms) & (times_ms <= rep.end_ms + 1)]
    span = span[np.isfinite(span)]
    if not len(span):
        return float("nan")
    return float(np.min(span) if how == "min" else np.max(span))


def _relettered(form: FormScore) -> FormScore:
    return form.model_copy(update={"grade": grade_for(form.score, v4=True)})


def _v4_letters(message: BaseMessage) -> BaseMessage:
    """The same message with every letter re-read on V4's bands (the scores are unchanged)."""
    if isinstance(message, CounterMessage) and message.form_score is not None:
        return message.model_copy(update={"form_score": _relettered(message.form_score)})
    if isinstance(message, FormScoreMessage):
        return message.model_copy(update={"grade": grade_for(message.score, v4=True)})
    if isinstance(message, ExerciseSummaryMessage):
        history = [_v4_rep(r) for r in message.history]
        grade = grade_for(message.avg_rep_score, v4=True) if message.avg_rep_score is not None else None
        return message.model_copy(update={"history": history, "grade": grade})
    return message


def _v4_rep(rep: RepSummary) -> RepSummary:
    form = _relettered(rep.form_score) if rep.form_score is not None else None
    return rep.model_copy(update={"grade": grade_for(rep.score, v4=True), "form_score": form})


def _with_test_analysis(
    messages: list[BaseMessage], analysis: ExerciseAnalysis, signals: Mapping[str, Floats], pitch: float | None
) -> list[BaseMessage]:
    """The test's measurement on its counters (the rep's own and the final one) and in the summary."""
    test = analysis.reps[0] if analysis.reps else None
    if test is None:
        return messages
    peaks = {name: _reduce(signals[s], signals["times_ms"], test, how) for name, (s, how) in PEAKS.items()}
    block = PhysicalTestAnalysis(
        peaks={name: round(value, 1) for name, value in peaks.items() if np.isfinite(value)},
        camera=_camera(pitch),
        disclaimer=DISCLAIMER,
        method=METHOD,
        interpretation=_interpretation(test.score, peaks["trunk_angle_deg"]),
        opinion=False,
    )
    return [_with_block(m, block) for m in messages]


def _with_block(message: BaseMessage, block: PhysicalTestAnalysis) -> BaseMessage:
    """The test's counters carry the block; the summary carries its method, disclaimer and the block per test."""
    if isinstance(message, CounterMessage) and message.form_score is not None:
        return message.model_copy(update={"analysis": block})
    if isinstance(message, ExerciseSummaryMessage):
        history = [rep.model_copy(update={"analysis": block}) for rep in message.history]
        return message.model_copy(update={"history": history, "disclaimer": DISCLAIMER, "method": METHOD})
    return message


def _camera(pitch: float | None) -> CameraPlacement:
    """Placement from the phone's pitch (positive: tilted down, so placed high); level or unknown reads as mid.
    Only a level camera sees the trunk angle undistorted."""
    if pitch is None:
        return CameraPlacement(placement="mid", bias="unknown")
    if abs(pitch) <= 15.0:
        return CameraPlacement(placement="mid", bias="none")
    return CameraPlacement(placement="high" if pitch > 0 else "ground", bias="unknown")


def _interpretation(score: float, trunk_deg: float) -> Interpretation:
    angle = f"{trunk_deg:.0f} degrees" if np.isfinite(trunk_deg) else "an unmeasured angle"
    if score >= 70:
        return Interpretation(tone="strong", title="Good flexibility", text=f"You bent forward to {angle}.")
    if score >= 40:
        return Interpretation(tone="partial", title="Moderate flexibility", text=f"You bent forward to {angle}.")
    return Interpretation(tone="limited", title="Limited flexibility", text=f"You bent forward to {angle}.")
