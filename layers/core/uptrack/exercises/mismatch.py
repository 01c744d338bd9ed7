"""Motion that is not the requested exercise: a person active for a long stretch with no rep of it.

A dance, a walk or a stretch analysed as squats counts nothing, which alone reads like "not enough depth". The
client is told instead (`exercise_mismatch`) when the body keeps moving for `MISMATCH_S` without a counted rep.
"""

from __future__ import annotations

import warnings
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.exercises.filters import bridge_gaps, frames_for, running_median
from uptrack.exercises.results import ExerciseAnalysis
from uptrack.pose.body import MIN_SCORE
from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float64]

MISMATCH_S: Final = 6.0
"""Active this long without a counted rep: longer than the slowest catalogue rep and any set-up between reps."""

MIN_SPEED: Final = 0.03
"""Body heights a second (median keypoint speed, over 1 s) above which the person is moving, not holding still:
a held plank or wall sit measures below 0.02 on the shared clips, a slow stretch 0.04."""


def mismatch_spans(series: PoseSeries, analysis: ExerciseAnalysis) -> tuple[tuple[int, int], ...]:
    """(start, end) in video ms of every stretch of at least `MISMATCH_S` where the body moved and no counted
    rep happened."""
    if len(series) < 2:
        return ()
    times_ms = series.timestamp_ms.astype(np.float64)
    moving = body_speed(series) >= MIN_SPEED
    for rep in analysis.reps:
        moving &= ~((times_ms >= rep.start_ms) & (times_ms <= rep.end_ms))
    spans = []
    start: int | None = None
    for i, flag in enumerate([*moving.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if times_ms[i - 1] - times_ms[start] >= MISMATCH_S * 1000:
                spans.append((int(times_ms[start]), int(times_ms[i - 1])))
            start = None
    return tuple(spans)


def body_speed(series: PoseSeries) -> Floats:
    """Median keypoint speed per frame in body heights a second, smoothed over about a second; a frame without a
    pose in the middle of motion does not end it (gaps up to a second are bridged)."""
    coco = series.coco.astype(np.float64)
    points = coco[..., :2] * np.array([series.width, series.height], dtype=np.float64)
    points[coco[..., 2] < MIN_SCORE] = np.nan
    times_s = series.timestamp_ms.astype(np.float64) / 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no keypoint seen: NaN is the answer
        height = float(np.nanmedian(np.nanmax(points[..., 1], axis=1) - np.nanmin(points[..., 1], axis=1)))
        steps = np.nanmedian(np.linalg.norm(np.diff(points, axis=0), axis=-1), axis=1)
    if not np.isfinite(height) or height <= 0:
        return np.full(len(series), np.nan)
    speed = np.concatenate([[np.nan], steps / height / np.maximum(np.diff(times_s), 1e-3)])
    return running_median(bridge_gaps(speed, times_s, max_gap_s=1.0), frames_for(1.0, times_s))
