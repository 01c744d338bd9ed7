"""Body geometry from COCO keypoints, shared by the exercise signals and the reference features.

Pixel positions with unseen keypoints blanked (NaN), per-clip segment lengths, mirror-free midpoints and
confidence-weighted angles of both sides: the measures that make thresholds and signatures independent of who is
filmed, how far from the camera and from which side.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.angles import joint_angle
from uptrack.pose.keypoints import COCO_INDEX

Floats = npt.NDArray[np.float64]

MIN_SCORE: Final = 0.3
"""Keypoints below this confidence are treated as not seen (MoveNet's own drawing threshold)."""


@dataclass(frozen=True)
class Body:
    """Pixel keypoints with low-confidence points blanked, plus per-clip segment lengths."""

    points: Floats  # (N, 17, 2) pixels, NaN where not seen
    scores: Floats  # (N, 17)
    segments: Mapping[str, float]

    def xy(self, name: str) -> Floats:
        return self.points[:, COCO_INDEX[name], :]

    def score(self, name: str) -> Floats:
        return self.scores[:, COCO_INDEX[name]]


_SEGMENTS: Final = {
    "upper_arm": ("shoulder", "elbow"),
    "forearm": ("elbow", "wrist"),
    "thigh": ("hip", "knee"),
    "shin": ("knee", "ankle"),
    "flank": ("shoulder", "hip"),
}


def measure_body(coco: npt.NDArray[np.float32], width: int, height: int) -> Body:
    """Blank unseen keypoints and measure each segment as the 90th percentile of its length on the clip.

    A high percentile rather than the median because foreshortening only ever shortens a limb.
    """
    points, scores = seen_points(coco, width, height)
    segments: dict[str, float] = {}
    for name, (a, b) in _SEGMENTS.items():
        lengths = np.concatenate(
            [
                np.linalg.norm(points[:, COCO_INDEX[f"{s}_{a}"]] - points[:, COCO_INDEX[f"{s}_{b}"]], axis=-1)
                for s in ("left", "right")
            ]
        )
        lengths = lengths[np.isfinite(lengths)]
        segments[name] = float(np.percentile(lengths, 90)) if len(lengths) >= 5 else float("nan")
    return Body(points, scores, segments)


def seen_points(coco: npt.NDArray[np.float32], width: int, height: int) -> tuple[Floats, Floats]:
    """(N, 17, 2) pixel keypoints with unseen points blanked, and their (N, 17) scores."""
    scores = np.nan_to_num(coco[..., 2].astype(np.float64), nan=0.0)
    points = coco[..., :2].astype(np.float64) * np.array([width, height], dtype=np.float64)
    points[scores < MIN_SCORE] = np.nan
    return points, scores


def midpoint(points: Floats, joint: str) -> Floats:
    """Mean of both sides where both are seen, else the one seen: a mirror-free position of `joint`."""
    both = np.stack([points[:, COCO_INDEX[f"left_{joint}"]], points[:, COCO_INDEX[f"right_{joint}"]]])
    seen = np.isfinite(both).all(axis=-1, keepdims=True)
    total = np.where(seen, both, 0.0).sum(axis=0)
    count = seen.sum(axis=0)
    result: Floats = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return result


def merged_angle(points: Floats, scores: Floats, first: str, vertex: str, last: str) -> Floats:
    """Confidence-weighted mean of the left and right angle, as a fraction of 180° (the far side counts less)."""
    values, weights = [], []
    for side in ("left", "right"):
        idx = [COCO_INDEX[f"{side}_{joint}"] for joint in (first, vertex, last)]
        corners = [points[:, i].astype(np.float32) for i in idx]
        angle = joint_angle(*corners).astype(np.float64)
        weight = np.where(np.isfinite(angle), scores[:, idx].min(axis=1), 0.0)
        values.append(np.nan_to_num(angle))
        weights.append(weight)
    total = np.sum(weights, axis=0)
    merged: Floats = np.where(total > 0, np.sum(np.multiply(values, weights), axis=0) / np.maximum(total, 1e-9), np.nan)
    return merged / 180.0
