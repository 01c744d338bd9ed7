"""MoveNet SinglePose (Lightning 192², Thunder 256²), with TF.js's crop-region tracking.

Tensor layout: input int32 [1, S, S, 3] RGB 0–255 (S = 192 or 256); output float32 [1, 1, 17, 3] as
(y, x, score) normalised to the crop. Keypoints come out in COCO order, normalised to the frame.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from uptrack.pose.geometry import Image, Roi
from uptrack.pose.keypoints import COCO_INDEX, COCO_KEYPOINTS
from uptrack.pose.runtime import OnnxModel
from uptrack.pose.timing import StageTimer

#: Keypoints below this score do not steer the crop (TF.js MIN_CROP_KEYPOINT_SCORE).
MIN_CROP_KEYPOINT_SCORE = 0.2
#: Mean keypoint score under which the person is considered lost and the crop resets.
MIN_POSE_SCORE = 0.2
TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")

Keypoints = npt.NDArray[np.float32]


class MoveNet:
    """One MoveNet model; `track` follows the person from frame to frame, `estimate_image` is one photo."""

    names = COCO_KEYPOINTS

    def __init__(self, path: Path, input_size: int, name: str, threads: int = 1) -> None:
        self.model = OnnxModel(path, threads)
        self.input_size = input_size
        self.name = name
        self.timer = StageTimer()
        self._roi: Roi | None = None

    def reset(self) -> None:
        self._roi = None

    def track(self, image: Image) -> tuple[Keypoints, float]:
        """Keypoints (17, 4: x, y, z=NaN, score) normalised to the frame, and the pose score."""
        height, width = image.shape[:2]
        roi = self._roi or full_frame_roi(width, height)
        keypoints, score = self._infer(image, roi)
        self._roi = crop_roi(keypoints, width, height) if score >= MIN_POSE_SCORE else None
        return keypoints, score

    def estimate_image(self, image: Image) -> tuple[Keypoints, float]:
        """Two passes on a photo: the whole frame, then the crop MoveNet's own cropping would pick."""
        self.reset()
        first = self.track(image)
        if self._roi is None:
            return first
        second = self.track(image)
        self.reset()
        return second if second[1] >= first[1] else first

    def _infer(self, image: Image, roi: Roi) -> tuple[Keypoints, float]:
        height, width = image.shape[:2]
        with self.timer.stage("preprocess"):
            patch, _ = roi.crop(image, self.input_size)
            tensor = cv2.cvtColor(patch, cv2.COLOR_BGR2RGB)[np.newaxis].astype(np.int32)
        with self.timer.stage("infer"):
            (output,) = self.model.run(tensor)
        with self.timer.stage("postprocess"):
            yx_score = output.reshape(17, 3)
            half = roi.size / 2
            keypoints = np.full((17, 4), np.nan, dtype=np.float32)
            keypoints[:, 0] = (roi.cx - half + yx_score[:, 1] * roi.size) / width
            keypoints[:, 1] = (roi.cy - half + yx_score[:, 0] * roi.size) / height
            keypoints[:, 3] = yx_score[:, 2]
        return keypoints, float(yx_score[:, 2].mean())


def full_frame_roi(width: int, height: int) -> Roi:
    """The square around the whole frame (padded on the short side), TF.js's initial crop."""
    return Roi(width / 2, height / 2, float(max(width, height)))


def crop_roi(keypoints: Keypoints, width: int, height: int) -> Roi | None:
    """TF.js `determineCropRegion`: a square around the body, centred on the hips, or None to reset."""
    pixels = keypoints[:, :2] * np.array([width, height], dtype=np.float32)
    scores = keypoints[:, 3]
    torso = [COCO_INDEX[name] for name in TORSO]
    hips_visible = max(scores[COCO_INDEX["left_hip"]], scores[COCO_INDEX["right_hip"]]) > MIN_CROP_KEYPOINT_SCORE
    shoulders_visible = (
        max(scores[COCO_INDEX["left_shoulder"]], scores[COCO_INDEX["right_shoulder"]]) > MIN_CROP_KEYPOINT_SCORE
    )
    if not (hips_visible and shoulders_visible):
        return None
    center = (pixels[COCO_INDEX["left_hip"]] + pixels[COCO_INDEX["right_hip"]]) / 2
    torso_range = np.abs(pixels[torso] - center).max()
    visible = scores > MIN_CROP_KEYPOINT_SCORE
    body_range = np.abs(pixels[visible] - center).max() if visible.any() else 0.0
    half = max(float(torso_range) * 1.9, float(body_range) * 1.2)
    half = min(half, max(center[0], width - center[0], center[1], height - center[1]))
    if half > max(width, height) / 2 or half <= 1:
        return None
    return Roi(float(center[0]), float(center[1]), 2 * half)
