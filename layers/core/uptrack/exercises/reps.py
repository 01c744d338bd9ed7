"""Repetition exercises: rep progress from the catalogue's components, candidates, the rules that make one count.

A candidate (`counting`, which only starts one from a ready start position: required keypoints seen, body in the
exercise's posture) counts when it came back to the start position, reached the difficulty's target, lasted a
plausible time, and reached `RELATIVE_DEPTH` of this person's typical depth. A rep the clip ends in counts when its
return is well under way (`counting`) or when its target was reached and held (`END_HOLD_S`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.contract.grades import grade_for
from uptrack.contract.params import Difficulty
from uptrack.exercises.alternation import hidden_limb_drives
from uptrack.exercises.catalogue import Component, ExerciseDefinition
from uptrack.exercises.clip import ClipFrames, posture_states, to_ms
from uptrack.exercises.counting import DEFAULT_THRESHOLDS, Candidate, find_candidates
from uptrack.exercises.filters import bridge_gaps, clean, frames_for, running_max, running_median
from uptrack.exercises.grading import grade_rep
from uptrack.exercises.holds import bound_met
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


END_HOLD_S: Final = 1.0
"""A rep the data ends in counts once it has been held at its target this long, up to the end: a deliberate hold
(a glute bridge's top kept as the clip ends), which a lift that reaches the top as the clip ends, or a descent the
clip cuts at the bottom, never shows. Only in a clip with a full counted rep: a held pose alone is not a set."""


def rep_progress(
    components: tuple[Component, ...], difficulty: Difficulty, clip: ClipFrames, side: str = ""
) -> tuple[Floats, float]:
    """Per-frame progress (weighted over the components seen in each frame) and the progress of the ideal rep;
    `side` picks one limb's signals of an alternating exercise."""
    total = np.zeros(len(clip.facing))
    weight = np.zeros(len(clip.facing))
    ideal = 0.0
    for component in components:
        span = component.target.at(difficulty) - component.rest
        part = (_reading(component, clip.signals[component.signal + side], clip.times_s) - component.rest) / span
        in_view = np.where(clip.facing, "front" in component.views, "side" in component.views)
        in_view &= np.where(clip.behind, "behind" in component.cameras, "ahead" in component.cameras)
        seen = np.isfinite(part) & in_view
        total[seen] += component.weight * part[seen]
        weight[seen] += component.weight
        ideal += component.weight * (component.ideal - component.rest) / span
    with np.errstate(invalid="ignore", divide="ignore"):
        progress: Floats = np.where(weight > 0, total / weight, np.nan)
    return progress, ideal / sum(c.weight for c in components)


def _reading(component: Component, values: Floats, times_s: Floats) -> Floats:
    """The signal as the component reads it: as is, or as the share it closed from its own reference."""
    if not component.reference_s:
        return values
    reference = running_max(values, frames_for(2.0 * component.reference_s, times_s))
    with np.errstate(invalid="ignore", divide="ignore"):
        closed: Floats = 1.0 - values / reference
    return closed


@dataclass(frozen=True)
class _Track:
    """One counting track: the whole body, or one limb of an alternating exercise."""

    progress: Floats
    candidates: list[Candidate]
    depth: Floats
    """Progress by the catalogue's components alone (without the alternative reading): what grades depth."""
    measured: Bools
    """Frames where this track's limb was seen (before gaps were bridged)."""


def _tracks(clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty) -> list[_Track]:
    """One track per side, from the components; from the alternative reading too when no rep reaches the target
    without it (the components are trusted wherever they see the movement: the alternative's distance can move
    the wrong way from a camera in front of the body)."""
    tracks = [_track(clip, exercise, difficulty, side, None) for side in exercise.sides]
    if exercise.alternative is None or any(c.peak_progress >= 1.0 for t in tracks for c in t.candidates):
        return tracks
    return [_track(clip, exercise, difficulty, side, exercise.alternative) for side in exercise.sides]


def _track(
    clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty, side: str, alternative: Component | None
) -> _Track:
    """The alternative reading is capped at the target: its scale changes from one camera angle to the next, so it
    can show that a rep reached the target, not rank reps against each other (`RELATIVE_DEPTH`)."""
    raw, _ = rep_progress(exercise.components, difficulty, clip, side)
    measured = np.isfinite(raw) & clip.visible
    depth = _counting_progress(clip, raw)
    progress = depth
    if alternative is not None:
        trusted = _alternative_trusted(clip, exercise, difficulty, 2.0 * alternative.reference_s)
        reading, _ = rep_progress((alternative,), difficulty, clip, side)
        progress = np.fmax(depth, np.minimum(np.where(trusted, _counting_progress(clip, reading), np.nan), 1.0))
    return _Track(progress, _shot_candidates(clip, progress), depth, measured)


def _alternative_trusted(
    clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty, window_s: float
) -> Bools:
    """Where the body around each frame (the median over `window_s`, dropouts bridged) is in the shape the
    alternative reading needs: a knee mis-seen or hidden for a moment neither opens nor closes the gate."""
    window = frames_for(window_s, clip.times_s)
    around = {
        b.signal: running_median(bridge_gaps(clip.signals[b.signal], clip.times_s, window_s), window)
        for b in exercise.alternative_while
    }
    steadied = replace(clip, signals={**clip.signals, **around})
    trusted: Bools = np.ones(len(clip.times_s), dtype=bool)
    for bound in exercise.alternative_while:
        trusted &= bound_met(steadied, bound, difficulty)
    return trusted


def _counting_progress(clip: ClipFrames, raw: Floats) -> Floats:
    """Progress cleaned for counting shot by shot (each camera sees the body differently): unseen or disengaged
    frames blanked, spikes removed, occlusions bridged, each shot's own start position."""
    progress = np.where(clip.visible, raw, np.nan)
    for shot in clip.shots:
        progress[shot] = clean(progress[shot], clip.times_s[shot])
    progress = np.where(clip.engaged, progress, np.nan)
    for shot in clip.shots:
        progress[shot] = bridge_gaps(progress[shot], clip.times_s[shot], OCCLUDED_REP_S, above=DEFAULT_THRESHOLDS.rest)
    return from_own_rest(progress, clip.shots)


def _shot_candidates(clip: ClipFrames, progress: Floats) -> list[Candidate]:
    """Candidates shot by shot: at a camera cut the state machine starts over, and a rep the cut interrupts is
    counted once, on the side of the cut that saw it turn (`find_candidates`)."""
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
    return candidates


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
    _, ideal = rep_progress(exercise.components, difficulty, clip, exercise.sides[0])
    tracks = _tracks(clip, exercise, difficulty)
    found = sorted(((c, t) for t in tracks for c in t.candidates), key=lambda pair: (pair[0].start, pair[0].end))
    candidates = [candidate for candidate, _ in found]
    verdicts = [
        _verdict(exercise, c, _seconds(c, clip.times_s), _held_at_end_s(c, t.progress, clip.times_s)) for c, t in found
    ]
    verdicts = _without_lone_holds(candidates, verdicts)
    widths = [_rep_width(clip, c) for c in candidates]
    limb_of = {id(track): limb for limb, track in enumerate(tracks)}
    shots, limbs = [_shot_of(clip, c) for c in candidates], [limb_of[id(t)] for _, t in found]
    bars = depth_bars(candidates, verdicts, widths, shots, limbs)
    results = tuple(
        _rep_result(clip, exercise, c, v, bar, ideal, t.depth)
        for (c, t), v, bar in zip(found, verdicts, bars, strict=True)
    )
    if exercise.alternating:
        results = _with_hidden_limb_drives(clip, tracks, found, results)
    start = min((r.start_ms for r in results if r.counted), default=None)
    return replace(
        base,
        candidates=results,
        start_ms=start,
        posture=posture_states(clip, exercise, start),
        progression=merged([rep_progression(t.progress, clip.times_s, c.start, c.peak, c.end) for c, t in found]),
    )


def _with_hidden_limb_drives(
    clip: ClipFrames, tracks: list[_Track], found: list[tuple[Candidate, _Track]], results: tuple[RepResult, ...]
) -> tuple[RepResult, ...]:
    """The results plus the drives of a limb hidden or mis-seen through the other limb's cycles (`alternation`),
    in order."""
    counted = [
        sorted(
            (r for (_, t), r in zip(found, results, strict=True) if t is track and r.counted), key=lambda r: r.peak_ms
        )
        for track in tracks
    ]
    progress = [t.progress for t in tracks]
    inferred = hidden_limb_drives(counted, progress, [t.measured for t in tracks], clip.times_s)
    return tuple(sorted([*results, *inferred], key=lambda r: (r.start_ms, r.end_ms)))


def _rep_width(clip: ClipFrames, candidate: Candidate) -> float:
    """The rep's median shoulder width: where the camera stood round the body (NaN when the shoulders were unseen)."""
    widths = clip.signals["shoulder_width"][candidate.start : candidate.end + 1]
    return float(np.median(widths[np.isfinite(widths)])) if np.isfinite(widths).any() else np.nan


def depth_bars(
    candidates: list[Candidate],
    verdicts: list[str],
    widths: list[float],
    shots: list[int] | None = None,
    limbs: list[int] | None = None,
) -> list[float]:
    """Per candidate, `RELATIVE_DEPTH` of the median peak of the reps of its camera shot that pass the catalogue's
    rules (0 when none do: another camera foreshortens the same depth differently), lowered to that of the reps
    filmed from its own view (itself included) when they are shallower, and to that of its own limb's reps (an
    alternating exercise) when they are: in profile the model reads one leg's drives lower than the other's (one
    is seen past the other), by an amount that changes with the picture (mirrored, the same clip swaps which leg
    reads lower), so a drive is judged among its own leg's. Never raised above the shot's bar: a view or a limb is
    held to its own reps only to forgive what flattens depth, not to be stricter. `shots`, `limbs`: each
    candidate's shot and limb (one of each when not given)."""
    shots = shots or [0] * len(candidates)
    limbs = limbs or [0] * len(candidates)
    rows = zip(candidates, verdicts, widths, shots, limbs, strict=True)
    counted = [(c.peak_progress, w, s, limb) for c, v, w, s, limb in rows if v == "counted"]
    bars = []
    for width, shot, limb in zip(widths, shots, limbs, strict=True):
        in_shot = [(peak, other, own) for peak, other, s, own in counted if s == shot]
        same_view = [peak for peak, other, _ in in_shot if _same_view(width, other)]
        same_limb = [peak for peak, _, own in in_shot if own == limb]
        bars.append(min(_bar([peak for peak, _, _ in in_shot]), _bar(same_view), _bar(same_limb)))
    return bars


def _same_view(width: float, other: float) -> bool:
    """Shoulder widths within `SAME_VIEW_WIDTH`; an unseen width does not tell views apart."""
    return not abs(width - other) >= SAME_VIEW_WIDTH


def _bar(peaks: list[float]) -> float:
    return RELATIVE_DEPTH * float(np.median(peaks)) if peaks else 0.0


def _peak(progress: Floats) -> float:
    """Highest progress seen (0 when none was)."""
    return float(np.nanmax(progress)) if np.isfinite(progress).any() else 0.0


def _shot_of(clip: ClipFrames, candidate: Candidate) -> int:
    """Which camera shot of the clip holds the candidate's start."""
    return next(i for i, shot in enumerate(clip.shots) if shot.start <= candidate.start < shot.stop)


def _seconds(candidate: Candidate, times_s: Floats) -> float:
    return float(times_s[candidate.end] - times_s[candidate.start])


def _held_at_end_s(candidate: Candidate, progress: Floats, times_s: Floats) -> float:
    """How long a candidate stayed at or past its target up to its last frame (0 when it ended short of it)."""
    short = np.flatnonzero(~(progress[candidate.start : candidate.end + 1] >= 1.0))
    reached = candidate.start + (int(short[-1]) + 1 if len(short) else 0)
    return float(times_s[candidate.end] - times_s[reached]) if reached <= candidate.end else 0.0


def _without_lone_holds(candidates: list[Candidate], verdicts: list[str]) -> list[str]:
    """Held endings stay cut off in a clip without a full counted rep (see `END_HOLD_S`)."""
    if any(c.completed and v == "counted" for c, v in zip(candidates, verdicts, strict=True)):
        return verdicts
    return [v if c.completed else "cut_off" for c, v in zip(candidates, verdicts, strict=True)]


def _verdict(exercise: ExerciseDefinition, candidate: Candidate, duration_s: float, held_s: float) -> str:
    """Why a candidate does or does not count against the catalogue's rules; the first failing rule wins.
    (Posture needs no rule here: a candidate only starts from a steady, ready start position.)"""
    low, high = exercise.tempo.counted
    if not candidate.completed and held_s < END_HOLD_S:
        return "cut_off"
    if candidate.peak_progress < 1.0:
        return "shallow"
    if duration_s < low:
        return "too_fast"
    if duration_s > high:
        return "too_slow"
    return "counted"


def _rep_result(
    clip: ClipFrames,
    exercise: ExerciseDefinition,
    candidate: Candidate,
    verdict: str,
    clip_bar: float,
    ideal: float,
    depth_progress: Floats,
) -> RepResult:
    """Grade a candidate. One far shallower than this person's own reps (below `clip_bar`) does not count, and
    is graded as short of its target: the clip's bar stands in for the catalogue's. Depth is graded on the
    catalogue's components (`depth_progress`), never on the alternative reading."""
    span = slice(candidate.start, candidate.end + 1)
    depth = min(candidate.peak_progress, _peak(depth_progress[span]))
    if verdict == "counted" and candidate.peak_progress < clip_bar:
        verdict, depth = "shallow", depth / clip_bar
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
