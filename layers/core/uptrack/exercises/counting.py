"""Rep segmentation: a hysteresis (Schmitt) state machine over a clip's rep progress signal.

Progress is 0 in the start position and 1 at the difficulty's target depth. A candidate rep starts when progress
leaves the start position (rises through `enter` after having been at rest, below `rest`), peaks, and ends when
progress comes back below `rest`. The two thresholds make jitter around either one harmless; requiring a rest
before every rep means a person walking in, setting up or holding a half-way position is never counted.

Whether a candidate *counts* (target reached, plausible duration...) is decided by `reps`; the others are kept as
attempts so they can be graded and coached ("go lower"). A rep cut off by the end of the clip, or opening it,
counts only when most of it was seen (`end_return`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Final

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Thresholds:
    """Schmitt thresholds in progress units (0 start position, 1 target depth)."""

    rest: float = 0.3
    enter: float = 0.5
    end_return: float = 0.5
    """A rep cut off by the end of the data (or a long gap) still counts once it came back this share of its peak."""


DEFAULT_THRESHOLDS: Final = Thresholds()


@dataclass(frozen=True)
class Candidate:
    """One excursion from the start position and back (frame indices, `end` inclusive)."""

    start: int
    peak: int
    end: int
    peak_progress: float
    completed: bool
    """False when the data ended (or broke off) before the person was back in the start position."""


class _State(Enum):
    WAITING = 0
    AT_REST = 1
    MOVING = 2


def find_candidates(
    progress: Floats,
    ready: Bools,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    cut_at_end: bool = False,
    lower_after_cut: bool = False,
    opens_rising: bool = False,
) -> list[Candidate]:
    """Segment `progress` (NaN = not seen: a break) into excursions from rest; `ready` gates where rest may begin.

    `cut_at_end`: the data ends at a camera cut, not at the end of the video. The person goes on in the next shot,
    which counts a rep it opens in only when it sees most of its way up; so a rep the cut interrupts counts here
    once this data saw it leave the start position and turn back from its peak, or reach its peak at the cut when
    the next shot opens lower (`lower_after_cut`: the turn fell on the cut).
    `opens_rising`: the data starts at a cut that interrupted a rep on its way up, so a rep the data opens in
    is that rep's second half, counted here."""
    candidates: list[Candidate] = []
    state = _State.WAITING
    left_rest = start = peak = 0
    last_valid = -1
    first = _first_valid(progress)
    if first is not None and _opens_mid_rep(progress, ready, first, thresholds):
        state, start, peak = _State.MOVING, first, first
    for i in range(first or 0, len(progress)):  # unseen opening frames are no break in a rep the clip opens in
        value = progress[i]
        if not np.isfinite(value):
            if state is _State.MOVING:
                candidates.append(_cut_off(progress, start, peak, last_valid, thresholds))
            state = _State.WAITING
            continue
        last_valid = i
        if state is not _State.MOVING:
            if value <= thresholds.rest and ready[i]:
                state, left_rest = _State.AT_REST, i
            elif state is _State.AT_REST and value >= thresholds.enter:
                state, start, peak = _State.MOVING, left_rest, i
        else:
            if value > progress[peak]:
                peak = i
            if value <= thresholds.rest:
                opener = None if opens_rising else first
                candidates.append(_closed(progress, start, peak, i, opener, thresholds))
                state, left_rest = (_State.AT_REST, i) if ready[i] else (_State.WAITING, i)
    if state is _State.MOVING:
        turned = cut_at_end and (peak < last_valid or lower_after_cut) and start != first
        candidates.append(
            _cut_off(progress, start, peak, last_valid, replace(thresholds, end_return=0.0) if turned else thresholds)
        )
    return candidates


def _first_valid(progress: Floats) -> int | None:
    finite = np.flatnonzero(np.isfinite(progress))
    return int(finite[0]) if len(finite) else None


def _opens_mid_rep(progress: Floats, ready: Bools, first: int, thresholds: Thresholds) -> bool:
    """The clip opens away from rest, and the body is ready at some point of that opening excursion: the posture
    check may fail for a moment as the clip starts (a sit-up seen first near its top is not yet lying back)."""
    if progress[first] <= thresholds.rest:
        return False
    after = progress[first:]
    ended = np.flatnonzero(~(after > thresholds.rest))
    opening = slice(first, first + (int(ended[0]) if len(ended) else len(after)))
    return bool(np.any(ready[opening]))


def _came_back(progress: Floats, peak: int, at: int, thresholds: Thresholds) -> bool:
    """True when progress at `at` is at least `end_return` of the way from the peak back to rest."""
    peak_value = float(progress[peak])
    return peak_value - float(progress[at]) >= thresholds.end_return * (peak_value - thresholds.rest)


def _closed(progress: Floats, start: int, peak: int, end: int, first: int | None, thresholds: Thresholds) -> Candidate:
    """A rep back at rest. One the clip opened in the middle of counts only if we saw most of its way up
    (the mirror image of the rule for a rep cut off at the end)."""
    completed = start != first or progress[start] <= thresholds.rest or _came_back(progress, peak, start, thresholds)
    return Candidate(start, peak, end, float(progress[peak]), completed=bool(completed))


def _cut_off(progress: Floats, start: int, peak: int, last: int, thresholds: Thresholds) -> Candidate:
    """A rep interrupted by the end of the data: complete when it had come back far enough from its peak."""
    return Candidate(start, peak, last, float(progress[peak]), completed=_came_back(progress, peak, last, thresholds))
