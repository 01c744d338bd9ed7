"""Joint angles in PoseTracker's tree: degrees at the middle joint, and the weakest keypoint's score.

Angles are computed in pixel space (not normalised space) so a portrait frame does not skew them.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.pose.keypoints import COCO_INDEX

#: (classic key, relation, first, vertex, last) for each side; names without the side prefix.
ANGLE_DEFINITIONS: Final[tuple[tuple[str, str, str, str, str], ...]] = (
    ("knee_angle", "from_hip_to_ankle", "hip", "knee", "ankle"),
    ("hip_angle", "from_knee_to_shoulder", "knee", "hip", "shoulder"),
    ("shoulder_angle", "from_hip_to_elbow", "hip", "shoulder", "elbow"),
    ("elbow_angle", "from_shoulder_to_wrist", "shoulder", "elbow", "wrist"),
)
SIDES: Final = ("left", "right")

Floats = npt.NDArray[np.float32]


def joint_angle(first: Floats, vertex: Floats, last: Floats) -> Floats:
    """Angle in degrees at `vertex` for (..., 2) point arrays; NaN where a point is missing."""
    a = first - vertex
    b = last - vertex
    norm = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    cosine = np.einsum("...i,...i->...", a, b) / np.where(norm > 0, norm, np.nan)
    degrees: Floats = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))).astype(np.float32)
    return degrees


def angle_series(coco: Floats, width: int, height: int) -> dict[str, tuple[Floats, Floats]]:
    """For (N, 17, 3) keypoints: {'left_knee': (degrees (N,), score (N,)), ...} for all 8 public angles."""
    pixels = coco[..., :2] * np.array([width, height], dtype=np.float32)
    scores = coco[..., 2]
    result: dict[str, tuple[Floats, Floats]] = {}
    for side in SIDES:
        for key, _relation, first, vertex, last in ANGLE_DEFINITIONS:
            idx = [COCO_INDEX[f"{side}_{joint}"] for joint in (first, vertex, last)]
            degrees = joint_angle(pixels[..., idx[0], :], pixels[..., idx[1], :], pixels[..., idx[2], :])
            score = np.nan_to_num(scores[..., idx].min(axis=-1), nan=0.0).astype(np.float32)
            result[f"{side}_{key.removesuffix('_angle')}"] = (degrees, score)
    return result
