"""Movement features: mirror-, position- and scale-invariant measures of a pose series on a regular time grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from uptrack.pose.body import Floats, merged_angle, midpoint, seen_points
from uptrack.pose.keypoints import COCO_INDEX
from uptrack.pose.series import PoseSeries

SIGNATURE_HZ: Final = 15.0
"""Feature rate: fast enough for a 0.6 s jumping jack, slow enough to keep DTW over long videos cheap."""

SCALE_WINDOW_S: Final = 1.5
"""Half-width of the rolling window in which the torso length (the unit of every distance) is measured."""

SCALE_PERCENTILE: Final = 90.0
"""Foreshortening only ever shortens the torso, so a high percentile reads its true length."""

_ANGLES: Final = (
    ("knee", "hip", "knee", "ankle"),
    ("hip", "knee", "hip", "shoulder"),
    ("elbow", "shoulder", "elbow", "wrist"),
    ("shoulder", "hip", "shoulder", "elbow"),
)
_HEIGHTS: Final = ("nose", "shoulder", "elbow", "wrist", "knee", "ankle")
_SPREADS: Final = ("wrist", "ankle")

FEATURE_NAMES: Final[tuple[str, ...]] = (
    *(f"{name}_angle" for name, *_ in _ANGLES),
    *(f"{name}_height" for name in _HEIGHTS),
    *(f"{name}_spread" for name in _SPREADS),
)
"""Signature channels: joint angles (fraction of 180°), heights above the hips and spreads (torso lengths)."""


@dataclass(frozen=True)
class FeatureTrack:
    """Movement features of a clip on a regular time grid."""

    times_ms: Floats  # (T,)
    values: Floats  # (T, len(FEATURE_NAMES))

    def __len__(self) -> int:
        return int(self.times_ms.shape[0])

    def between(self, start_ms: float, end_ms: float) -> FeatureTrack:
        keep = (self.times_ms >= start_ms) & (self.times_ms <= end_ms)
        return FeatureTrack(self.times_ms[keep], self.values[keep])


def _rolling_percentile(values: Floats, times_ms: Floats) -> Floats:
    """Torso length per frame as the high percentile of the lengths seen within ±SCALE_WINDOW_S."""
    result = np.full(values.shape, np.nan)
    half = SCALE_WINDOW_S * 1000.0
    lows = np.searchsorted(times_ms, times_ms - half, side="left")
    highs = np.searchsorted(times_ms, times_ms + half, side="right")
    for i, (low, high) in enumerate(zip(lows, highs, strict=True)):
        window = values[low:high]
        window = window[np.isfinite(window)]
        if len(window) >= 3:
            result[i] = np.percentile(window, SCALE_PERCENTILE)
    return result


def _raw_features(series: PoseSeries) -> Floats:
    """(N, K) features per analysed frame, NaN where their keypoints were not seen."""
    points, scores = seen_points(series.coco, series.width, series.height)
    hips = midpoint(points, "hip")
    torso = np.linalg.norm(midpoint(points, "shoulder") - hips, axis=1)
    unit = _rolling_percentile(torso, series.timestamp_ms.astype(np.float64))
    unit = np.where(unit > 1.0, unit, np.nan)
    columns = [merged_angle(points, scores, *joints) for _, *joints in _ANGLES]
    nose = points[:, COCO_INDEX["nose"]]
    for name in _HEIGHTS:
        position = nose if name == "nose" else midpoint(points, name)
        columns.append((hips[:, 1] - position[:, 1]) / unit)
    for name in _SPREADS:
        left, right = points[:, COCO_INDEX[f"left_{name}"], 0], points[:, COCO_INDEX[f"right_{name}"], 0]
        columns.append(np.abs(left - right) / unit)
    return np.stack(columns, axis=1)


def movement_features(series: PoseSeries, hz: float = SIGNATURE_HZ) -> FeatureTrack:
    """Mirror-, position- and scale-invariant features of a (smoothed) series, resampled to `hz`.

    Gaps where a keypoint was not seen are interpolated; a channel never seen is constant zero, which the
    signature then ignores because it does not move.
    """
    if len(series) == 0:
        return FeatureTrack(np.zeros(0), np.zeros((0, len(FEATURE_NAMES))))
    times = series.timestamp_ms.astype(np.float64)
    grid = np.arange(times[0], times[-1] + 1e-6, 1000.0 / hz)
    raw = _raw_features(series)
    values = np.zeros((len(grid), raw.shape[1]))
    for k in range(raw.shape[1]):
        seen = np.isfinite(raw[:, k])
        if seen.sum() >= 2:
            values[:, k] = np.interp(grid, times[seen], raw[seen, k])
    return FeatureTrack(grid, values)
