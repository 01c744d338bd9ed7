"""Time-series clean-up applied to joint signals before counting: bridge short dropouts, remove spikes.

The caller's One-Euro filter removes keypoint jitter; what remains on real footage are single-frame swaps of a
limb (a knee "jumping" to the other leg) and short dropouts when a joint is occluded. A running median removes the
first without rounding off the turning points a rep counter needs; linear interpolation bridges the second.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


def bridge_gaps(values: Floats, times_s: Floats, max_gap_s: float, above: float = -np.inf) -> Floats:
    """Linearly fill NaN runs no longer than `max_gap_s` that have data on both sides, one of them above `above`;
    other runs stay NaN."""
    result = values.copy()
    finite = np.flatnonzero(np.isfinite(values))
    for before, after in itertools.pairwise(finite):
        short = times_s[after] - times_s[before] <= max_gap_s
        if after - before > 1 and short and max(values[before], values[after]) > above:
            span = slice(before + 1, after)
            result[span] = np.interp(times_s[span], times_s[[before, after]], values[[before, after]])
    return result


def running_median(values: Floats, window: int) -> Floats:
    """Centred median over `window` frames (odd); a frame with no data stays NaN.

    Every run of data is padded with its edge values, at the clip's ends and where the data breaks off alike (the
    person fading out or leaving the frame): a window half outside the run would otherwise hold only the frames
    before its last one, and a rep whose way back is the last thing seen would stay at its peak."""
    half = max(window // 2, 0)
    if half == 0 or len(values) == 0:
        return values.copy()
    padded = np.pad(_edges_held(values, half), half, mode="edge")
    stacked = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: NaN is the right answer
        result: Floats = np.nanmedian(stacked, axis=1)
    result[~np.isfinite(values)] = np.nan
    return result


def _edges_held(values: Floats, frames: int) -> Floats:
    """`values` with each NaN within `frames` of a run of data taken from the nearest run's edge value."""
    index = np.arange(len(values))
    finite = np.isfinite(values)
    before = np.maximum.accumulate(np.where(finite, index, -1))
    after = np.minimum.accumulate(np.where(finite, index, len(values))[::-1])[::-1]
    gap_before = np.where(before >= 0, index - before, len(values))
    gap_after = np.where(after < len(values), after - index, len(values))
    nearest = np.where(gap_before <= gap_after, before, after)
    held = ~finite & (np.minimum(gap_before, gap_after) <= frames)
    result = values.copy()
    result[held] = values[nearest[held]]
    return result


def running_max(values: Floats, window: int) -> Floats:
    """Centred maximum over `window` frames (odd), ignoring NaN; a window with no data gives NaN."""
    half = max(window // 2, 0)
    padded = np.pad(values, half, constant_values=np.nan)
    stacked = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: NaN is the right answer
        result: Floats = np.nanmax(stacked, axis=1)
    return result


def frames_for(seconds: float, times_s: Floats) -> int:
    """An odd window length covering about `seconds` at the clip's frame rate."""
    if len(times_s) < 2:
        return 1
    step = float(np.median(np.diff(times_s)))
    frames = max(round(seconds / step) if step > 0 else 1, 1)
    return frames | 1


def clean(values: Floats, times_s: Floats, max_gap_s: float = 0.5, median_s: float = 0.2) -> Floats:
    """Bridge short gaps, then take a running median of about `median_s` seconds."""
    return running_median(bridge_gaps(values, times_s, max_gap_s), frames_for(median_s, times_s))
