"""One-Euro smoothing of keypoints over time (Casiez et al. 2012), as MediaPipe and TF.js apply it.

Values are scaled by the body's size before filtering, so the same settings work for a person far
from the camera and one filling the frame. Timestamps, not frame counts, drive the filter, so a
strided or variable-rate analysis is smoothed the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class OneEuroSettings:
    """MediaPipe's pose-landmark settings (min_cutoff 0.05 Hz, beta 80, derivative cutoff 1 Hz)."""

    min_cutoff: float = 0.05
    beta: float = 80.0
    derivative_cutoff: float = 1.0


def _alpha(cutoff: npt.ArrayLike, dt: float) -> Floats:
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff, dtype=np.float64))
    result: Floats = (1.0 / (1.0 + tau / dt)).astype(np.float32)
    return result


def _object_scale(points: Floats) -> float:
    """Mean of the keypoints' bounding-box width and height (frame-normalised)."""
    visible = points[np.isfinite(points).all(axis=1)]
    if len(visible) < 2:
        return 1.0
    span = visible.max(axis=0) - visible.min(axis=0)
    return max(float(span.mean()), 1e-3)


def smooth_series(series: PoseSeries, settings: OneEuroSettings | None = None) -> PoseSeries:
    """Filter x and y of every keypoint; frames without a pose and camera cuts reset the filter (smoothing across
    a cut would glide from one view of the body to the other)."""
    settings = settings or OneEuroSettings()
    values = series.keypoints.copy()
    previous = np.full((*values.shape[1:2], 2), np.nan, dtype=np.float32)
    derivative = np.zeros_like(previous)
    last_time = 0.0
    cuts = series.cuts
    for i in range(len(series)):
        current = values[i, :, :2]
        time_s = float(series.timestamp_ms[i]) / 1000.0
        if cuts[i] or not (np.isfinite(current).all() and np.isfinite(previous).all()) or time_s <= last_time:
            previous, derivative, last_time = current.copy(), np.zeros_like(current), time_s
            continue
        dt = time_s - last_time
        scale = _object_scale(current)
        raw_derivative = (current - previous) / dt / scale
        derivative = derivative + _alpha(settings.derivative_cutoff, dt) * (raw_derivative - derivative)
        cutoff = settings.min_cutoff + settings.beta * np.abs(derivative)
        previous = previous + _alpha(cutoff, dt) * (current - previous)
        values[i, :, :2] = previous
        last_time = time_s
    return series.with_keypoints(values)
