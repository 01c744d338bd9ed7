"""Keypoint names in PoseTracker's order, and the map from BlazePose's 33 points to the 17 COCO points.

Everything downstream (angles, exercises, overlays) reads keypoints by COCO name, so both model families
feed the same analysis; BlazePose's extra points (heels, feet, hands) are still emitted on the wire.
"""

from __future__ import annotations

COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)

BLAZEPOSE_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

COCO_INDEX: dict[str, int] = {name: i for i, name in enumerate(COCO_KEYPOINTS)}

#: For each COCO keypoint, its index among BlazePose's 33.
BLAZEPOSE_TO_COCO: tuple[int, ...] = tuple(BLAZEPOSE_KEYPOINTS.index(name) for name in COCO_KEYPOINTS)

#: Bones drawn by overlays, as pairs of COCO names.
SKELETON_EDGES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"),
    ("left_shoulder", "left_elbow"),
    ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"),
    ("right_elbow", "right_wrist"),
    ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"),
    ("left_hip", "right_hip"),
    ("left_hip", "left_knee"),
    ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"),
    ("right_knee", "right_ankle"),
    ("nose", "left_eye"),
    ("nose", "right_eye"),
    ("left_eye", "left_ear"),
    ("right_eye", "right_ear"),
)

#: Keypoints below this confidence are not drawn, by the exported video or the pages' overlays (the skeleton would
#: point at guesses).
DRAW_MIN_SCORE = 0.3
