"""Per-rep form score: measurable criteria, each 0–100, combined by the catalogue's weights (contract §5.1).

* depth: how far the rep went against the difficulty's target (75 exactly at the target, 100 at the ideal);
* tempo: rep duration against the exercise's ideal range;
* catalogue criteria: a signal reduced over the rep (body line, elbow swing, trunk lean, left/right symmetry...).

A criterion whose signal was never seen during the rep (symmetry in profile, say) is left out and the others are
re-weighted, so an unmeasurable criterion neither rewards nor punishes. A rep that fell short of the target is
capped at its depth score: missing range is the one fault no other quality can make up for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from uptrack.exercises.catalogue import Criterion, ExerciseDefinition, Tempo

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

DEPTH_AT_TARGET = 75.0
"""Depth score of a rep that exactly reaches the difficulty's target: acceptable, not yet good."""


@dataclass(frozen=True)
class Grade:
    score: float
    criteria: Mapping[str, float]
    cues: tuple[str, ...]


def linear_score(value: float, good: float, bad: float) -> float:
    """100 at `good`, 0 at `bad`, linear and clamped in between (either direction)."""
    if good == bad:
        return 100.0 if value == good else 0.0
    return float(np.clip(100.0 * (value - bad) / (good - bad), 0.0, 100.0))


def depth_score(peak_progress: float, ideal_progress: float) -> float:
    """0 at rest → 75 at the target (progress 1) → 100 at the ideal depth."""
    if peak_progress < 1.0:
        return max(0.0, DEPTH_AT_TARGET * peak_progress)
    span = max(ideal_progress - 1.0, 1e-6)
    return min(100.0, DEPTH_AT_TARGET + (100.0 - DEPTH_AT_TARGET) * (peak_progress - 1.0) / span)


def tempo_score(duration_s: float, tempo: Tempo) -> float:
    """100 inside the ideal range, falling linearly to 40 at the edges of the countable range."""
    low, high = tempo.ideal
    if duration_s < low:
        return 40.0 + 60.0 * linear_score(duration_s, low, tempo.counted[0]) / 100.0
    if duration_s > high:
        return 40.0 + 60.0 * linear_score(duration_s, high, tempo.counted[1]) / 100.0
    return 100.0


_REDUCERS: Final[Mapping[str, Callable[[Floats], np.floating[Any]]]] = {
    "min": np.min,
    "max": np.max,
    "mean": np.mean,
    "range": np.ptp,
}


def _robust_range(values: Floats) -> float:
    """Range of motion without the odd mis-detected frame: 5th to 95th percentile."""
    low, high = np.percentile(values, [5, 95])
    return float(high - low)


def criterion_value(criterion: Criterion, signals: Mapping[str, Floats], frames: Bools) -> float | None:
    """The criterion's measure over the selected frames; None when its signal was never seen there."""
    if criterion.reduce == "side_gap":
        left, right = (signals[f"{criterion.signal}_{side}"][frames] for side in ("left", "right"))
        both = np.isfinite(left) & np.isfinite(right)
        return abs(_robust_range(left[both]) - _robust_range(right[both])) if both.sum() >= 2 else None
    seen = signals[criterion.signal][frames]
    seen = seen[np.isfinite(seen)]
    return float(_REDUCERS[criterion.reduce](seen)) if len(seen) else None


def criterion_score(criterion: Criterion, signals: Mapping[str, Floats], frames: Bools) -> float | None:
    """The criterion's 0–100 score over the selected frames; None when it could not be measured."""
    value = criterion_value(criterion, signals, frames)
    return None if value is None else linear_score(value, criterion.good, criterion.bad)


def grade_rep(
    exercise: ExerciseDefinition,
    signals: Mapping[str, Floats],
    facing: Bools,
    span: slice,
    peak_progress: float,
    ideal_progress: float,
    duration_s: float,
) -> Grade:
    """Score one rep over the frames in `span`, and the recommendation cues it triggers."""
    scores: dict[str, float] = {
        "depth": depth_score(peak_progress, ideal_progress),
        "tempo": tempo_score(duration_s, exercise.tempo),
    }
    weights: dict[str, float] = {name: exercise.weights.get(name, 0.0) for name in scores}
    for criterion in exercise.criteria:
        frames = np.zeros(len(facing), dtype=bool)
        frames[span] = np.where(facing[span], "front" in criterion.views, "side" in criterion.views)
        value = criterion_score(criterion, signals, frames)
        if value is not None:
            scores[criterion.name] = value
            weights[criterion.name] = criterion.weight
    total = sum(weights.values())
    score = sum(scores[n] * weights[n] for n in scores) / total if total > 0 else scores["depth"]
    if peak_progress < 1.0:
        score = min(score, scores["depth"])
    return Grade(round(score, 1), {n: round(v, 1) for n, v in scores.items()}, fired_cues(exercise, scores))


def fired_cues(exercise: ExerciseDefinition, scores: Mapping[str, float]) -> tuple[str, ...]:
    """Cue texts of every rule whose criterion scored below its bar, in catalogue order."""
    return tuple(cue.text for cue in exercise.cues if cue.criterion in scores and scores[cue.criterion] < cue.below)


def failed_criterion(exercise: ExerciseDefinition, scores: Mapping[str, float]) -> str | None:
    """The criterion that most explains a poor rep: the lowest-scoring one below its bar, None when none is."""
    failed = {name: score for name, score in scores.items() if score < exercise.criterion_bar(name)}
    return min(failed, key=lambda name: failed[name]) if failed else None
