"""`progression` (contract §3.9): 0–100, how far the person is through the current rep, or into the hold.

PoseTracker counts a rep once its progression reaches 100 at the current difficulty; the values here keep that
meaning. A **rep** is its way out and its way back: the way out fills 0–50 as the movement approaches the
difficulty's target (a rep that stops short tops out below 50), the way back fills the rest in proportion to how
far the person has come back, scaled by the depth reached, so only a full-depth rep that returns to the start
reaches 100, at the moment it completes. A **hold** fills 0–50 with the share of the pose's conditions met while the
person is placed but not yet in the pose, then 50–100 through each second held, 100 as each second is counted.

Values are never lower than the previous one within a rep (a coach does not take back progress for a wobble), come
at most every `MIN_INTERVAL_MS`, and only when they changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.exercises.clip import to_ms

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Event = tuple[int, float]

MIN_INTERVAL_MS: Final = 100
"""At most ten values a second: the rate of the slowest analysis (10 fps), finer than a client can show."""


def rep_progression(progress: Floats, times_s: Floats, start: int, peak: int, end: int) -> list[Event]:
    """(time, value) through one attempt: `progress` is the exercise's per-frame progress (1 = the difficulty's
    target, 0 = the start position), `start`/`peak`/`end` the attempt's frames (`end` inclusive; an attempt cut off
    by a break in the data may end before its recorded peak: it is followed up to its end)."""
    peak = min(peak, end)
    out = np.clip(np.nan_to_num(progress[start : peak + 1], nan=0.0), 0.0, 1.0)
    depth = float(out.max()) if len(out) else 0.0
    back = progress[peak + 1 : end + 1]
    span = float(progress[peak]) - float(progress[end])
    returned = np.clip((float(progress[peak]) - back) / span, 0.0, 1.0) if span > 0 else np.ones(len(back))
    values = np.concatenate([50.0 * out, 50.0 * depth * (1.0 + np.nan_to_num(returned, nan=0.0))])
    return throttled(times_s[start : end + 1], np.maximum.accumulate(values))


def hold_progression(times_s: Floats, placed: Bools, conditions_met: Floats, held_s: Floats) -> list[Event]:
    """(time, value) of a hold: `placed` frames count, `conditions_met` is the share (0–1) of the pose's conditions
    met, `held_s` the seconds held so far (the counter's clock)."""
    seconds = np.floor(held_s)
    ticked = np.diff(seconds, prepend=0.0) > 0
    holding = np.diff(held_s, prepend=0.0) > 0
    within = np.minimum(50.0 + 50.0 * (held_s - seconds), 99.9)  # 100 only as a second is counted
    values = np.where(holding, within, 50.0 * conditions_met)
    values = np.where(ticked, 100.0, values)
    keep = placed | holding
    return throttled(times_s[keep], values[keep], always=ticked[keep])


def throttled(times_s: Floats, values: Floats, always: Bools | None = None) -> list[Event]:
    """Values rounded to 0.1, at most one per `MIN_INTERVAL_MS` and only when changed; the last value and any
    `always` frame (a counted second) are kept whatever the interval."""
    events: list[Event] = []
    last = len(values) - 1
    for i, (t, v) in enumerate(zip(times_s.tolist(), values.tolist(), strict=True)):
        stamp, value = to_ms(t), round(float(v), 1)
        if events and value == events[-1][1]:
            continue
        forced = i == last or (always is not None and bool(always[i]))
        if events and stamp - events[-1][0] < MIN_INTERVAL_MS and not forced:
            continue
        events.append((stamp, value))
    return events


def merged(tracks: Sequence[list[Event]]) -> tuple[Event, ...]:
    """Events of several attempts (or limbs) in time order."""
    return tuple(sorted(event for track in tracks for event in track))
