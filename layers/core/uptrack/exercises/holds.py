"""Duration exercises: whole seconds held while every posture bound of the catalogue entry holds.

Time accumulates over valid frames (a dropped frame counts at most `MAX_STEP_S`), so a break pauses the count
rather than resetting it, as a coach's stopwatch would; `current_count` is the total whole seconds held.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.contract.params import Difficulty
from uptrack.exercises.catalogue import Bound, ExerciseDefinition
from uptrack.exercises.clip import ClipFrames, posture_states, steady, to_ms
from uptrack.exercises.grading import criterion_score, fired_cues
from uptrack.exercises.progression import hold_progression
from uptrack.exercises.results import ExerciseAnalysis, PostureState

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MAX_STEP_S: Final = 0.25
"""Longest time one frame may add to a hold (a gap in the video never counts as holding)."""


def bound_met(clip: ClipFrames, bound: Bound, difficulty: Difficulty) -> Bools:
    """Frames where one pose condition holds (an unseen signal never does)."""
    values = clip.signals[bound.signal]
    met = np.isfinite(values)
    if bound.low is not None:
        met &= values >= bound.low.at(difficulty)
    if bound.high is not None:
        met &= values <= bound.high.at(difficulty)
    return met


def holding_frames(clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty) -> Bools:
    """Frames in a valid hold: ready, and every bound satisfied (steadied over half a second)."""
    holding = clip.ready.copy()
    for bound in exercise.bounds:
        holding &= bound_met(clip, bound, difficulty)
    return steady(holding, clip.times_s, 0.5)


def pose_cues(
    clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty, start_ms: int | None
) -> tuple[PostureState, ...]:
    """While the person is placed and ready but not yet in the pose: which conditions are unmet, each time that
    set changes (steadied like placement), so the client can coach them into the pose before the clock starts."""
    met = [steady(bound_met(clip, b, difficulty), clip.times_s) for b in exercise.bounds]
    states: list[PostureState] = []
    for i, t in enumerate(clip.times_s):
        if start_ms is not None and to_ms(t) >= start_ms:
            break
        unmet = [b for b, ok in zip(exercise.bounds, met, strict=True) if not ok[i]]
        if not clip.ready[i] or not unmet:
            continue
        state = PostureState(
            to_ms(t), False, (), True, tuple(b.signal for b in unmet), tuple(b.cue for b in unmet if b.cue)
        )
        if not states or states[-1].unmet != state.unmet:
            states.append(state)
    return tuple(states)


def analyze_hold(
    clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty, base: ExerciseAnalysis
) -> ExerciseAnalysis:
    """Seconds held, when each was completed, and the hold's quality from the catalogue's criteria."""
    holding = holding_frames(clip, exercise, difficulty)
    times = clip.times_s
    steps = np.minimum(np.diff(times, prepend=times[:1]), MAX_STEP_S)
    held = np.cumsum(np.where(holding, steps, 0.0))
    total = int(held[-1]) if len(held) else 0
    ticks = tuple(to_ms(times[int(np.argmax(held >= second))]) for second in range(1, total + 1))
    scores = {c.name: s for c in exercise.criteria if (s := criterion_score(c, clip.signals, holding)) is not None}
    start = _hold_start(holding, times, ticks[0]) if ticks else None
    return replace(
        base,
        hold_seconds=len(ticks),
        hold_ticks_ms=ticks,
        hold_score=round(float(np.mean(list(scores.values()))), 1) if scores and ticks else None,
        hold_cues=fired_cues(exercise, scores),
        start_ms=start,
        progression=tuple(hold_progression(times, clip.ready, _conditions_share(clip, exercise, difficulty), held)),
        posture=tuple(
            sorted(
                (*posture_states(clip, exercise, start), *pose_cues(clip, exercise, difficulty, start)),
                key=lambda state: state.timestamp_ms,
            )
        ),
    )


def _conditions_share(clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty) -> Floats:
    """Per frame, the share of the pose's conditions met (how close the person is to holding the pose)."""
    if not exercise.bounds:
        return np.ones(len(clip.times_s))
    share: Floats = np.mean([bound_met(clip, b, difficulty) for b in exercise.bounds], axis=0)
    return share


def _hold_start(holding: Bools, times_s: Floats, first_tick_ms: int) -> int:
    """Start of the valid stretch in which the first whole second was completed."""
    tick = int(np.searchsorted(times_s * 1000.0, first_tick_ms - 0.5))
    breaks = np.flatnonzero(~holding[: tick + 1])
    return to_ms(times_s[int(breaks[-1]) + 1 if len(breaks) else 0])
