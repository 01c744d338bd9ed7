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
from uptrack.exercises.catalogue import ExerciseDefinition
from uptrack.exercises.clip import ClipFrames, posture_states, steady, to_ms
from uptrack.exercises.grading import criterion_score, fired_cues
from uptrack.exercises.results import ExerciseAnalysis

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MAX_STEP_S: Final = 0.25
"""Longest time one frame may add to a hold (a gap in the video never counts as holding)."""


def holding_frames(clip: ClipFrames, exercise: ExerciseDefinition, difficulty: Difficulty) -> Bools:
    """Frames in a valid hold: ready, and every bound satisfied (steadied over half a second)."""
    holding = clip.ready.copy()
    for bound in exercise.bounds:
        values = clip.signals[bound.signal]
        if bound.low is not None:
            holding &= values >= bound.low.at(difficulty)
        if bound.high is not None:
            holding &= values <= bound.high.at(difficulty)
    return steady(holding, clip.times_s, 0.5)


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
        posture=posture_states(clip, exercise, start),
    )


def _hold_start(holding: Bools, times_s: Floats, first_tick_ms: int) -> int:
    """Start of the valid stretch in which the first whole second was completed."""
    tick = int(np.searchsorted(times_s * 1000.0, first_tick_ms - 0.5))
    breaks = np.flatnonzero(~holding[: tick + 1])
    return to_ms(times_s[int(breaks[-1]) + 1 if len(breaks) else 0])
