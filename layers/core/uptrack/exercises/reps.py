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
    """Progress cleaned and re-based, and its candidates, shot by shot: at a camera cut the state machine starts
    over (a rep the cut interrupts is counted once, on the side of the cut that saw it turn: `find_candidates`),
    and each shot has its own start position, as each camera sees the body differently."""
    progress, _ = rep_progress(exercise, difficulty, clip.signals, clip.facing, side)
    progress = np.where(clip.visible, progress, np.nan)
    for shot in clip.shots:
        progress[shot] = clean(progress[shot], clip.times_s[shot])
        progress[shot] = bridge_gaps(progress[shot], clip.times_s[shot], OCCLUDED_REP_S, above=DEFAULT_THRESHOLDS.rest)
    progress = from_own_rest(progress, clip.shots)
    candidates: list[Candidate] = []
    for at, shot in enumerate(clip.shots):
        found = find_candidates(
            progress[shot],
            clip.ready[shot],
            cut_at_end=at + 1 < len(clip.shots),
            lower_after_cut=at + 1 < len(clip.shots) and _across_cut(progress, clip.shots, at + 1) < 0,
            opens_rising=_rising_through_cut(progress, clip.shots, at, candidates),
        )
        candidates += [
            replace(c, start=c.start + shot.start, peak=c.peak + shot.start, end=c.end + shot.start) for c in found
        ]
    return _Track(progress, candidates)


def _rising_through_cut(progress: Floats, shots: tuple[slice, ...], at: int, before: list[Candidate]) -> bool:
    """True when shot `at` opens after a cut that interrupted a rep on its way up: the shot before saw the rep
    leave the start position, it was not counted there, and progress is higher after the cut than before it."""
    if at == 0 or not before:
        return False
    seen_before = np.flatnonzero(np.isfinite(progress[shots[at - 1]])) + shots[at - 1].start
    last = before[-1]
    under_way = len(seen_before) > 0 and last.end == seen_before[-1] and last.start > seen_before[0]
    return under_way and not last.completed and _across_cut(progress, shots, at) > 0


def _across_cut(progress: Floats, shots: tuple[slice, ...], at: int) -> float:
    """How much progress rose from the last frame seen before the cut that opens shot `at` to the first seen after
    it (NaN when either side saw nothing)."""
    seen_before = np.flatnonzero(np.isfinite(progress[shots[at - 1]])) + shots[at - 1].start
    seen_after = np.flatnonzero(np.isfinite(progress[shots[at]])) + shots[at].start
    if not len(seen_before) or not len(seen_after):
        return float("nan")
    return float(progress[seen_after[0]] - progress[seen_before[-1]])


def from_own_rest(progress: Floats, shots: tuple[slice, ...] = ()) -> Floats:
    """Progress re-based on the start position this person keeps coming back to, when it lies short of the
    catalogue's: a camera below or beside the body foreshortens a straight arm or leg (a pull-up's dead hang seen
    from below reads as a bent elbow), and continuous sets never quite lock out. The target stays where it was
    (1 is still 1), so depth rules are unchanged; only where a rep starts and ends moves.

    Each camera shot has its own start position; a shot too short to show one (fewer than `OWN_REST_MIN_TROUGHS`
    returns) takes the one all the shots' returns give."""
    shots = shots or (slice(0, len(progress)),)
    troughs = [_troughs_between_reps(progress[shot]) for shot in shots]
    pooled = [t for shot_troughs in troughs for t in shot_troughs]
    rebased = progress.copy()
    for shot, shot_troughs in zip(shots, troughs, strict=True):
        rest = _own_rest(shot_troughs if len(shot_troughs) >= OWN_REST_MIN_TROUGHS else pooled)
        if rest is not None:
            rebased[shot] = (progress[shot] - rest) / (1.0 - rest)
    return rebased


def _own_rest(troughs: list[float]) -> float | None:
    """Where these returns say the person's start position is; None when the catalogue's stands."""
    if len(troughs) < OWN_REST_MIN_TROUGHS:
        return None
    rest = float(np.quantile(troughs, OWN_REST_QUANTILE))
    return rest if DEFAULT_THRESHOLDS.rest < rest <= MAX_OWN_REST else None


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
    bars = [_shot_bar(clip, c, candidates, verdicts) for c in candidates]
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


def _shot_bar(clip: ClipFrames, candidate: Candidate, candidates: list[Candidate], verdicts: list[str]) -> float:
    """`RELATIVE_DEPTH` of the median peak of the reps in the candidate's camera shot that pass the catalogue's
    rules (0 when none do): another camera foreshortens the same depth differently."""
    shot = _shot_of(clip, candidate.start)
    peaks = [
        c.peak_progress
        for c, v in zip(candidates, verdicts, strict=True)
        if v == "counted" and _shot_of(clip, c.start) == shot
    ]
    return RELATIVE_DEPTH * float(np.median(peaks)) if peaks else 0.0


def _shot_of(clip: ClipFrames, frame: int) -> int:
    """Which camera shot of the clip holds `frame`."""
    return next(i for i, shot in enumerate(clip.shots) if shot.start <= frame < shot.stop)


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
