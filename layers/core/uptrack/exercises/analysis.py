"""Analyse one clip for one catalogue exercise: reps (or seconds held), each graded, plus placement feedback.

This is the layer the summary, the message builder and the accuracy report share; it knows nothing about
`minGrade` or wire messages. Pipeline: keypoints → body-normalised joint signals (`signals`) → cleaned
(`filters`) → rep progress from the catalogue's components → Schmitt segmentation (`counting`) → rules that make
a candidate count (target reached, plausible duration, started in the exercise's posture) → grades (`grading`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.contract.grades import Grade, grade_for
from uptrack.contract.params import Difficulty
from uptrack.exercises.catalogue import ExerciseDefinition, Posture
from uptrack.exercises.counting import Candidate, find_candidates
from uptrack.exercises.filters import clean, frames_for, running_median
from uptrack.exercises.grading import criterion_score, fired_cues, grade_rep
from uptrack.exercises.signals import MIN_SCORE, Body, compute_signals, measure_body
from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

UPRIGHT_MAX_INCLINE: Final = 45.0
"""Torso within this many degrees of vertical counts as upright; beyond it, as lying or in a plank."""

LYING_MAX_HIP_HEIGHT: Final = 0.45
"""Hips less than this many leg lengths above the ankles: the legs lie along the floor (or point at the camera)."""

FRONT_MIN_SHOULDER_WIDTH: Final = 0.3
"""Shoulder width over flank length above which the camera faces the body (profile views measure below 0.2)."""

HANDS_ON_FLOOR: Final = 0.6
"""Wrists this many flank lengths below the hips: the hands support the body (push-up, plank), even head-on."""

RELATIVE_DEPTH: Final = 0.75
"""A rep must also reach this share of the median depth of the clip's counted reps: a coach judges a half rep
against the person's own full ones, which also absorbs 2-D foreshortening of the absolute target."""

POSTURE_HOLD_S: Final = 0.3
"""A placement state must last this long to be reported."""

PROGRESSION_STEPS: Final = (25.0, 50.0, 75.0, 100.0)
"""Progression values reported as a rep passes them (contract §3.9)."""


@dataclass(frozen=True)
class RepResult:
    """One candidate rep: its span in video time, how deep it went, its grade, and whether it counted."""

    start_ms: int
    peak_ms: int
    end_ms: int
    peak_progress: float
    score: float
    grade: Grade
    criteria: Mapping[str, float]
    cues: tuple[str, ...]
    counted: bool
    reason: str
    """'counted', or why not: 'shallow', 'too_fast', 'too_slow', 'posture', 'cut_off'."""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class PostureState:
    """Placement at one moment before the exercise starts."""

    timestamp_ms: int
    ready: bool
    missing: tuple[str, ...]
    in_posture: bool


@dataclass(frozen=True)
class ExerciseAnalysis:
    """Everything measured on one clip for one exercise at one difficulty."""

    exercise: str
    kind: str
    difficulty: Difficulty
    view: str
    duration_ms: int
    candidates: tuple[RepResult, ...] = ()
    hold_seconds: int = 0
    hold_ticks_ms: tuple[int, ...] = ()
    """Video time at which each whole second of a hold was completed."""
    hold_score: float | None = None
    hold_cues: tuple[str, ...] = ()
    start_ms: int | None = None
    """When the exercise started (first counted rep begins, first second held); None if it never did."""
    posture: tuple[PostureState, ...] = ()
    progression: tuple[tuple[int, float], ...] = field(default=())

    @property
    def reps(self) -> tuple[RepResult, ...]:
        """Reps that count, before any `minGrade` filter."""
        return tuple(r for r in self.candidates if r.counted)


def analyze_exercise(series: PoseSeries, exercise: ExerciseDefinition, difficulty: Difficulty) -> ExerciseAnalysis:
    """Count (or time) and grade `exercise` on a smoothed pose series."""
    times_s = series.timestamp_ms.astype(np.float64) / 1000.0
    body = measure_body(series.coco, series.width, series.height)
    signals = {name: clean(values, times_s) for name, values in compute_signals(body, exercise.signal_names()).items()}
    facing = facing_camera(signals["shoulder_width"], times_s)
    visible, missing = _required_visible(body, exercise.required_keypoints)
    in_posture = _in_posture(signals, exercise.posture)
    ready = running_median((visible & in_posture).astype(np.float64), frames_for(0.3, times_s)) > 0.5
    base = ExerciseAnalysis(
        exercise=exercise.id,
        kind=exercise.kind,
        difficulty=difficulty,
        view=_view(facing),
        duration_ms=_ms(times_s[-1]) if len(times_s) else 0,
    )
    if exercise.is_duration:
        return _analyze_hold(exercise, difficulty, signals, times_s, ready, missing, in_posture, base)
    return _analyze_reps(exercise, difficulty, signals, facing, times_s, ready, visible, missing, in_posture, base)


def _ms(seconds: float) -> int:
    return max(round(seconds * 1000.0), 0)


def _required_visible(body: Body, required: tuple[str, ...]) -> tuple[Bools, list[Bools]]:
    """Per frame: are all required groups (`a||b`: either side) seen; and per group, where it is missing."""
    missing: list[Bools] = []
    for group in required:
        seen = np.zeros(len(body.scores), dtype=bool)
        for name in group.split("||"):
            seen |= body.score(name) >= MIN_SCORE
        missing.append(~seen)
    visible: Bools = ~np.any(missing, axis=0) if missing else np.ones(len(body.scores), dtype=bool)
    return visible, missing


def _in_posture(signals: Mapping[str, Floats], posture: Posture) -> Bools:
    """Body orientation check.

    Lying down (or in a plank) shows as a trunk tilted past 45°, hips close to the ankles' height, or (for floor
    exercises) hands far below the hips: the last two still work head-on, where the trunk looks upright in the
    image. An unseen trunk or legs does not block an upright exercise (upper-body framing is normal for curls).
    """
    incline, hip_height = signals["torso_incline"], signals["hip_height"]
    if posture == "any":
        return np.ones(len(incline), dtype=bool)
    lying: Bools = (incline > UPRIGHT_MAX_INCLINE) | (hip_height < LYING_MAX_HIP_HEIGHT)
    if posture == "upright":
        return ~lying
    on_floor: Bools = lying | (signals["wrist_below_hip"] > HANDS_ON_FLOOR)
    return on_floor


def _view(facing: Bools) -> str:
    """The clip's main camera view."""
    return "front" if len(facing) and np.mean(facing) > 0.5 else "side"


def facing_camera(shoulder_width: Floats, times_s: Floats) -> Bools:
    """Per frame: shoulders clearly apart (front or rear view) rather than overlapping (profile)."""
    facing: Bools = running_median(shoulder_width, frames_for(1.0, times_s)) > FRONT_MIN_SHOULDER_WIDTH
    return facing


def rep_progress(
    exercise: ExerciseDefinition, difficulty: Difficulty, signals: Mapping[str, Floats], facing: Bools
) -> tuple[Floats, float]:
    """Per-frame progress (weighted over the components seen in each frame) and the progress of the ideal rep."""
    total = np.zeros_like(next(iter(signals.values())))
    weight = np.zeros_like(total)
    ideal = 0.0
    for component in exercise.components:
        span = component.target.at(difficulty) - component.rest
        part = (signals[component.signal] - component.rest) / span
        in_view = np.where(facing, "front" in component.views, "side" in component.views)
        seen = np.isfinite(part) & in_view
        total[seen] += component.weight * part[seen]
        weight[seen] += component.weight
        ideal += component.weight * (component.ideal - component.rest) / span
    with np.errstate(invalid="ignore", divide="ignore"):
        progress: Floats = np.where(weight > 0, total / weight, np.nan)
    return progress, ideal / sum(c.weight for c in exercise.components)


def _analyze_reps(
    exercise: ExerciseDefinition,
    difficulty: Difficulty,
    signals: Mapping[str, Floats],
    facing: Bools,
    times_s: Floats,
    ready: Bools,
    visible: Bools,
    missing: list[Bools],
    in_posture: Bools,
    base: ExerciseAnalysis,
) -> ExerciseAnalysis:
    progress, ideal = rep_progress(exercise, difficulty, signals, facing)
    progress = clean(np.where(visible, progress, np.nan), times_s)
    candidates = find_candidates(progress, ready)
    verdicts = [_verdict(exercise, c, _seconds(c, times_s), bool(ready[c.start])) for c in candidates]
    bar = _clip_bar(candidates, verdicts)
    results = tuple(
        _rep_result(exercise, c, v, bar, signals, facing, times_s, ideal)
        for c, v in zip(candidates, verdicts, strict=True)
    )
    start = min((r.start_ms for r in results if r.counted), default=None)
    return replace(
        base,
        candidates=results,
        start_ms=start,
        posture=_posture_states(exercise, times_s, missing, in_posture, start),
        progression=_progression(progress, times_s, candidates),
    )


def _clip_bar(candidates: list[Candidate], verdicts: list[str]) -> float:
    """`RELATIVE_DEPTH` of the median peak of the reps that pass the catalogue's rules (0 when none do)."""
    peaks = [c.peak_progress for c, v in zip(candidates, verdicts, strict=True) if v == "counted"]
    return RELATIVE_DEPTH * float(np.median(peaks)) if peaks else 0.0


def _seconds(candidate: Candidate, times_s: Floats) -> float:
    return float(times_s[candidate.end] - times_s[candidate.start])


def _rep_result(
    exercise: ExerciseDefinition,
    candidate: Candidate,
    verdict: str,
    clip_bar: float,
    signals: Mapping[str, Floats],
    facing: Bools,
    times_s: Floats,
    ideal: float,
) -> RepResult:
    """Grade a candidate. One far shallower than this person's own reps (below `clip_bar`) does not count, and
    is graded as short of its target: the clip's bar stands in for the catalogue's."""
    depth = candidate.peak_progress
    if verdict == "counted" and depth < clip_bar:
        verdict, depth = "shallow", depth / clip_bar
    span = slice(candidate.start, candidate.end + 1)
    grade = grade_rep(exercise, signals, facing, span, depth, ideal, _seconds(candidate, times_s))
    return RepResult(
        start_ms=_ms(times_s[candidate.start]),
        peak_ms=_ms(times_s[candidate.peak]),
        end_ms=_ms(times_s[candidate.end]),
        peak_progress=round(candidate.peak_progress, 3),
        score=grade.score,
        grade=grade_for(grade.score),
        criteria=grade.criteria,
        cues=grade.cues,
        counted=verdict == "counted",
        reason=verdict,
    )


def _verdict(exercise: ExerciseDefinition, candidate: Candidate, duration_s: float, started_ready: bool) -> str:
    """Why a candidate does or does not count against the catalogue's rules; the first failing rule wins."""
    low, high = exercise.tempo.counted
    if not candidate.completed:
        return "cut_off"
    if candidate.peak_progress < 1.0:
        return "shallow"
    if not started_ready:
        return "posture"
    if duration_s < low:
        return "too_fast"
    if duration_s > high:
        return "too_slow"
    return "counted"


def _progression(progress: Floats, times_s: Floats, candidates: list[Candidate]) -> tuple[tuple[int, float], ...]:
    """(time, value) each time a rep passes one of `PROGRESSION_STEPS`, for every attempt."""
    events: list[tuple[int, float]] = []
    for candidate in candidates:
        percent = 100.0 * progress[candidate.start : candidate.peak + 1]
        for step in PROGRESSION_STEPS:
            reached = np.flatnonzero(percent >= step)
            if len(reached):
                events.append((_ms(times_s[candidate.start + int(reached[0])]), step))
    return tuple(events)


def _posture_states(
    exercise: ExerciseDefinition,
    times_s: Floats,
    missing: list[Bools],
    in_posture: Bools,
    start_ms: int | None,
) -> tuple[PostureState, ...]:
    """Placement changes from the first frame until the exercise starts; a state shorter than
    `POSTURE_HOLD_S` is skipped so a body coming into view yields one message, not one per keypoint."""
    window = frames_for(POSTURE_HOLD_S, times_s)
    missing_now = [running_median(m.astype(np.float64), window) > 0.5 for m in missing]
    posture_now = running_median(in_posture.astype(np.float64), window) > 0.5
    changes: list[PostureState] = []
    for i, t in enumerate(times_s):
        if start_ms is not None and _ms(t) >= start_ms:
            break
        absent = tuple(g for g, m in zip(exercise.required_keypoints, missing_now, strict=True) if m[i])
        state = PostureState(_ms(t), not absent and bool(posture_now[i]), absent, bool(posture_now[i]))
        if not changes or _placement(state) != _placement(changes[-1]):
            changes.append(state)
    lasting = [
        s for s, after in itertools.pairwise(changes) if after.timestamp_ms - s.timestamp_ms >= POSTURE_HOLD_S * 1000
    ]
    states: list[PostureState] = []
    for state in [*lasting, *changes[-1:]]:
        if not states or _placement(state) != _placement(states[-1]):
            states.append(state)
    if states:  # the first placement we trust stands for the clip's opening frames too
        states[0] = replace(states[0], timestamp_ms=changes[0].timestamp_ms)
    return tuple(states)


def _placement(state: PostureState) -> tuple[tuple[str, ...], bool]:
    return state.missing, state.in_posture


def _hold_start(holding: Bools, times_s: Floats, first_tick_ms: int) -> int:
    """Start of the valid stretch in which the first whole second was completed."""
    tick = int(np.searchsorted(times_s * 1000.0, first_tick_ms - 0.5))
    breaks = np.flatnonzero(~holding[: tick + 1])
    return _ms(times_s[int(breaks[-1]) + 1 if len(breaks) else 0])


def _analyze_hold(
    exercise: ExerciseDefinition,
    difficulty: Difficulty,
    signals: Mapping[str, Floats],
    times_s: Floats,
    ready: Bools,
    missing: list[Bools],
    in_posture: Bools,
    base: ExerciseAnalysis,
) -> ExerciseAnalysis:
    """Seconds held: time accumulates over frames in a valid posture; a tick each time a whole second completes."""
    holding = ready.copy()
    for bound in exercise.bounds:
        values = signals[bound.signal]
        if bound.low is not None:
            holding &= values >= bound.low.at(difficulty)
        if bound.high is not None:
            holding &= values <= bound.high.at(difficulty)
    holding = running_median(holding.astype(np.float64), frames_for(0.5, times_s)) > 0.5
    steps = np.minimum(np.diff(times_s, prepend=times_s[0] if len(times_s) else 0.0), 0.25)
    held = np.cumsum(np.where(holding, steps, 0.0))
    ticks = tuple(_ms(times_s[int(np.argmax(held >= s))]) for s in range(1, int(held[-1]) + 1)) if len(held) else ()
    scores = {c.name: s for c in exercise.criteria if (s := criterion_score(c, signals, holding)) is not None}
    start = _hold_start(holding, times_s, ticks[0]) if ticks else None
    return replace(
        base,
        hold_seconds=len(ticks),
        hold_ticks_ms=ticks,
        hold_score=round(float(np.mean(list(scores.values()))), 1) if scores and ticks else None,
        hold_cues=fired_cues(exercise, scores),
        start_ms=start,
        posture=_posture_states(exercise, times_s, missing, in_posture, start),
    )
