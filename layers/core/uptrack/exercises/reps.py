"""Repetition exercises: rep progress from the catalogue's components, candidates, the rules that make one count.

A candidate (`counting`, which only starts one from a ready start position: required keypoints seen, body in the
exercise's posture) counts when it came back to the start position, reached the difficulty's target, lasted a
plausible time, and reached `RELATIVE_DEPTH` of this person's typical depth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.contract.grades import grade_for
from uptrack.contract.params import Difficulty
from uptrack.exercises.catalogue import ExerciseDefinition
from uptrack.exercises.clip import ClipFrames, posture_states, to_ms
from uptrack.exercises.counting import DEFAULT_THRESHOLDS, Candidate, find_candidates
from uptrack.exercises.filters import bridge_gaps, clean
from uptrack.exercises.grading import grade_rep
from uptrack.exercises.progression import merged, rep_progression
from uptrack.exercises.results import ExerciseAnalysis, RepResult

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

RELATIVE_DEPTH: Final = 0.75
"""A rep must also reach this share of the median depth of the clip's counted reps: a coach judges a half rep
against the person's own full ones, which also absorbs 2-D foreshortening of the absolute target."""

SAME_VIEW_WIDTH: Final = 0.1
"""Two reps were filmed from the same view when their shoulder widths (flank lengths; the camera's angle round
the body) differ by less than this. A camera that circles the body changes how deep the same rep looks (an elbow
seen from the side bends less in the image than seen from behind, a knee seen from the front less than in
profile), so a rep short of the clip's bar still counts when it is not short of the reps seen its way."""

OCCLUDED_REP_S: Final = 1.5
"""A dropout up to this long is bridged when the person is mid-rep on either side of it: a barbell plate or an arm
hiding the body at the bottom of a rep, or on the way up, must not split it into halves that both fail."""

OWN_REST_QUANTILE: Final = 0.75
"""Where between its own full reps a person comes back to, when the catalogue's start position is never reached:
this quantile of the lowest points between reps that reached the target (most returns count, one half return
among full ones does not move it)."""

OWN_REST_MIN_TROUGHS: Final = 2
"""Returns needed before a clip's own start position is trusted: two full reps alone may be a rep and a stumble."""

MAX_OWN_REST: Final = 0.75
"""A clip whose returns stay closer than this to the target (progress units) has no start position of its own:
the person never really leaves the target zone (walking read as squats, pulses at the bottom), and the
catalogue's start position stands."""


def rep_progress(
    exercise: ExerciseDefinition, difficulty: Difficulty, signals: Mapping[str, Floats], facing: Bools, side: str = ""
) -> tuple[Floats, float]:
    """Per-frame progress (weighted over the components seen in each frame) and the progress of the ideal rep;
    `side` picks one limb's signals of an alternating exercise."""
    total = np.zeros(len(facing))
    weight = np.zeros(len(facing))
    ideal = 0.0
    for component in exercise.components:
        span = component.target.at(difficulty) - component.rest
        part = (signals[component.signal + side] - component.rest) / span
        in_view = np.where(facing, "front" in component.views, "side" in component.views)
        seen = np.isfinite(part) & in_view
        total[seen] += component.weight * part[seen]
        weight[seen] += component.weight
        ideal += component.weight * (component.ideal - component.rest) / span
    with np.errstate(invalid="ignore", divide="ignore"):
        progress: Floats = np.where(weight > 0, total / weight, np.nan)
    return progress, ideal / sum(c.weight for c in exercise.components)


@dataclass(frozen=True)
class _Track:
    """One counting track: the whole body, or one limb of an alternating exercise."""

    progress: Floats
    candidates: list[Candidate]


def _track(clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty, side: str) -> _Track:
    progress, _ = rep_progress(exercise, difficulty, clip.signals, clip.facing, side)
    progress = np.where(clip.engaged, clean(np.where(clip.visible, progress, np.nan), clip.times_s), np.nan)
    progress = bridge_gaps(progress, clip.times_s, OCCLUDED_REP_S, above=DEFAULT_THRESHOLDS.rest)
    progress = from_own_rest(progress)
    return _Track(progress, find_candidates(progress, clip.ready))


def from_own_rest(progress: Floats) -> Floats:
    """Progress re-based on the start position this person keeps coming back to, when it lies short of the
    catalogue's: a camera below or beside the body foreshortens a straight arm or leg (a pull-up's dead hang seen
    from below reads as a bent elbow), and continuous sets never quite lock out. The target stays where it was
    (1 is still 1), so depth rules are unchanged; only where a rep starts and ends moves."""
    troughs = _troughs_between_reps(progress)
    if len(troughs) < OWN_REST_MIN_TROUGHS:
        return progress
    rest = float(np.quantile(troughs, OWN_REST_QUANTILE))
    if not DEFAULT_THRESHOLDS.rest < rest <= MAX_OWN_REST:
        return progress
    rebased: Floats = (progress - rest) / (1.0 - rest)
    return rebased


def _troughs_between_reps(progress: Floats) -> list[float]:
    """The lowest progress between each two consecutive runs at or past the target (breaks in the data split)."""
    troughs: list[float] = []
    lowest: float | None = None
    for value in progress:
        if not np.isfinite(value):
            lowest = None
        elif value >= 1.0:
            if lowest is not None:
                troughs.append(lowest)
            lowest = np.inf
        elif lowest is not None:
            lowest = min(lowest, float(value))
    return [t for t in troughs if np.isfinite(t)]


def analyze_reps(
    clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty, base: ExerciseAnalysis
) -> ExerciseAnalysis:
    """Every attempt graded, with its verdict; placement until the first counted rep; progression events."""
    _, ideal = rep_progress(exercise, difficulty, clip.signals, clip.facing, exercise.sides[0])
    tracks = [_track(clip, exercise, difficulty, side) for side in exercise.sides]
    found = sorted(((c, t) for t in tracks for c in t.candidates), key=lambda pair: (pair[0].start, pair[0].end))
    candidates = [candidate for candidate, _ in found]
    verdicts = [_verdict(exercise, c, _seconds(c, clip.times_s)) for c in candidates]
    bars = depth_bars(candidates, verdicts, [_rep_width(clip, c) for c in candidates])
    results = tuple(
        _rep_result(clip, exercise, c, v, bar, ideal) for c, v, bar in zip(candidates, verdicts, bars, strict=True)
    )
    start = min((r.start_ms for r in results if r.counted), default=None)
    return replace(
        base,
        candidates=results,
        start_ms=start,
        posture=posture_states(clip, exercise, start),
        progression=merged([rep_progression(t.progress, clip.times_s, c.start, c.peak, c.end) for c, t in found]),
    )


def _rep_width(clip: ClipFrames, candidate: Candidate) -> float:
    """The rep's median shoulder width: where the camera stood round the body (NaN when the shoulders were unseen)."""
    widths = clip.signals["shoulder_width"][candidate.start : candidate.end + 1]
    return float(np.median(widths[np.isfinite(widths)])) if np.isfinite(widths).any() else np.nan


def depth_bars(candidates: list[Candidate], verdicts: list[str], widths: list[float]) -> list[float]:
    """Per candidate, `RELATIVE_DEPTH` of the median peak of the reps that pass the catalogue's rules (0 when none
    do), lowered to that of the reps filmed from its own view (itself included) when they are shallower. Never
    raised: one view is held to its own reps only to forgive a camera that flattens depth, not to be stricter."""
    counted = [(c.peak_progress, w) for c, v, w in zip(candidates, verdicts, widths, strict=True) if v == "counted"]
    clip_bar = _bar([peak for peak, _ in counted])
    return [min(clip_bar, _bar([peak for peak, other in counted if _same_view(width, other)])) for width in widths]


def _same_view(width: float, other: float) -> bool:
    """Shoulder widths within `SAME_VIEW_WIDTH`; an unseen width does not tell views apart."""
    return not abs(width - other) >= SAME_VIEW_WIDTH


def _bar(peaks: list[float]) -> float:
    return RELATIVE_DEPTH * float(np.median(peaks)) if peaks else 0.0


def _seconds(candidate: Candidate, times_s: Floats) -> float:
    return float(times_s[candidate.end] - times_s[candidate.start])


def _verdict(exercise: ExerciseDefinition, candidate: Candidate, duration_s: float) -> str:
    """Why a candidate does or does not count against the catalogue's rules; the first failing rule wins.
    (Posture needs no rule here: a candidate only starts from a steady, ready start position.)"""
    low, high = exercise.tempo.counted
    if not candidate.completed:
        return "cut_off"
    if candidate.peak_progress < 1.0:
        return "shallow"
    if duration_s < low:
        return "too_fast"
    if duration_s > high:
        return "too_slow"
    return "counted"


def _rep_result(
    clip: ClipFrames, exercise: ExerciseDefinition, candidate: Candidate, verdict: str, clip_bar: float, ideal: float
) -> RepResult:
    """Grade a candidate. One far shallower than this person's own reps (below `clip_bar`) does not count, and
    is graded as short of its target: the clip's bar stands in for the catalogue's."""
    depth = candidate.peak_progress
    if verdict == "counted" and depth < clip_bar:
        verdict, depth = "shallow", depth / clip_bar
    span = slice(candidate.start, candidate.end + 1)
    grade = grade_rep(exercise, clip.signals, clip.facing, span, depth, ideal, _seconds(candidate, clip.times_s))
    return RepResult(
        start_ms=to_ms(clip.times_s[candidate.start]),
        peak_ms=to_ms(clip.times_s[candidate.peak]),
        end_ms=to_ms(clip.times_s[candidate.end]),
        peak_progress=round(candidate.peak_progress, 3),
        score=grade.score,
        grade=grade_for(grade.score),
        criteria=grade.criteria,
        cues=grade.cues,
        counted=verdict == "counted",
        reason=verdict,
    )
