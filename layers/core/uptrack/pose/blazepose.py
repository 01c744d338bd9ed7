"""BlazePose: SSD person detector + lite/full/heavy landmark models, tracked as MediaPipe does.

Detector: input float32 [1, 224, 224, 3] RGB in [-1, 1], letterboxed; outputs [1, 2254, 12] box and
keypoint offsets (x first, 224-pixel units from the anchor centre) and [1, 2254, 1] score logits.
Landmarks: input float32 [1, 256, 256, 3] RGB in [0, 1] cut from the rotated ROI; output [1, 195] =
39 × (x, y, z, visibility logit, presence logit) in crop pixels (33 keypoints, then 2 auxiliary points
that place the next frame's ROI), and [1, 1] pose presence. The detector runs only when tracking is lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from uptrack.pose.geometry import Image, Roi, alignment_roi, invert_points
from uptrack.pose.keypoints import BLAZEPOSE_KEYPOINTS
from uptrack.pose.runtime import OnnxModel
from uptrack.pose.timing import StageTimer

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
DETECTION_THRESHOLD = 0.5
NMS_IOU = 0.3
PRESENCE_THRESHOLD = 0.5
ROI_ENLARGE = 1.25

Floats = npt.NDArray[np.float32]


@cache
def ssd_anchors() -> Floats:
    """(2254, 2) anchor centres of MediaPipe's pose detector: strides 8, 16, 32×3, 2 anchors per layer."""
    centres: list[tuple[float, float]] = []
    for stride, layers in ((8, 1), (16, 1), (32, 3)):
        cells = math.ceil(DETECTOR_SIZE / stride)
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * (2 * layers))
    return np.asarray(centres, dtype=np.float32)


def _sigmoid(values: Floats) -> Floats:
    clipped = np.clip(values.astype(np.float64), -100.0, 100.0)
    result: Floats = (1.0 / (1.0 + np.exp(-clipped))).astype(np.float32)
    return result


@dataclass(frozen=True)
class Letterbox:
    scale: float
    pad_x: float
    pad_y: float

    def to_pixels(self, points: Floats) -> Floats:
        """Letterboxed 0..1 coordinates to source-image pixels."""
        mapped: Floats = (points * DETECTOR_SIZE - np.array([self.pad_x, self.pad_y], dtype=np.float32)) / self.scale
        return mapped


class BlazePoseDetector:
    """Finds the most confident person and returns the ROI the landmark model should look at."""

    def __init__(self, path: Path, threads: int, timer: StageTimer) -> None:
        self.model = OnnxModel(path, threads)
        self.timer = timer

    def detect(self, image: Image) -> Roi | None:
        with self.timer.stage("preprocess"):
            tensor, box = self._letterbox(image)
        with self.timer.stage("infer"):
            raw_boxes, raw_scores = self.model.run(tensor)[:2]
        with self.timer.stage("postprocess"):
            return self._decode(raw_boxes.reshape(-1, 12), raw_scores.reshape(-1), box)

    @staticmethod
    def _letterbox(image: Image) -> tuple[Floats, Letterbox]:
        height, width = image.shape[:2]
        scale = DETECTOR_SIZE / max(width, height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        pad_x, pad_y = (DETECTOR_SIZE - new_w) // 2, (DETECTOR_SIZE - new_h) // 2
        canvas = np.zeros((DETECTOR_SIZE, DETECTOR_SIZE, 3), dtype=np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
        rgb = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32)
        return (rgb / 127.5 - 1.0)[np.newaxis], Letterbox(scale, float(pad_x), float(pad_y))

    @staticmethod
    def _decode(raw: Floats, logits: Floats, box: Letterbox) -> Roi | None:
        scores = _sigmoid(logits)
        candidates = np.flatnonzero(scores >= DETECTION_THRESHOLD)
        if candidates.size == 0:
            return None
        anchors = ssd_anchors()
        offsets = raw[candidates] / DETECTOR_SIZE
        centres = anchors[candidates]
        boxes = np.concatenate([offsets[:, :2] + centres, offsets[:, 2:4]], axis=1)  # cx, cy, w, h
        points = (offsets[:, 4:12].reshape(-1, 4, 2) + centres[:, np.newaxis, :]).astype(np.float32)
        best = _weighted_nms_top(boxes, points, scores[candidates])
        hip, full_body = box.to_pixels(best[0:2])
        return alignment_roi((float(hip[0]), float(hip[1])), (float(full_body[0]), float(full_body[1])), ROI_ENLARGE)


def _weighted_nms_top(boxes: Floats, points: Floats, scores: Floats) -> Floats:
    """Keypoints of the top detection, averaged over the detections overlapping it (MediaPipe's weighted NMS)."""
    top = int(np.argmax(scores))
    lo = boxes[:, :2] - boxes[:, 2:] / 2
    hi = boxes[:, :2] + boxes[:, 2:] / 2
    inter = np.clip(np.minimum(hi, hi[top]) - np.maximum(lo, lo[top]), 0, None).prod(axis=1)
    union = boxes[:, 2:].prod(axis=1) + boxes[top, 2:].prod() - inter
    cluster = inter / np.maximum(union, 1e-9) > NMS_IOU
    cluster[top] = True
    weights = scores[cluster] / scores[cluster].sum()
    merged: Floats = (points[cluster] * weights[:, np.newaxis, np.newaxis]).sum(axis=0)
    return merged


class BlazePose:
    """Detector + one landmark model; `track` re-uses the previous frame's ROI like MediaPipe."""

    names = BLAZEPOSE_KEYPOINTS

    def __init__(self, detector_path: Path, landmark_path: Path, name: str, threads: int = 1) -> None:
        self.name = name
        self.timer = StageTimer()
        self.detector = BlazePoseDetector(detector_path, threads, self.timer)
        self.landmarks = OnnxModel(landmark_path, threads)
        self._landmark_outputs = self.landmarks.output_names[:2]
        self._roi: Roi | None = None

    def reset(self) -> None:
        self._roi = None

    def track(self, image: Image) -> tuple[Floats, float]:
        """Keypoints (33, 4: x, y, z, score) normalised to the frame, and the pose presence."""
        if self._roi is not None:
            keypoints, presence, next_roi = self._landmarks(image, self._roi)
            if presence >= PRESENCE_THRESHOLD:
                self._roi = next_roi
                return keypoints, presence
        roi = self.detector.detect(image)
        if roi is None:
            self._roi = None
            return np.full((33, 4), np.nan, dtype=np.float32), 0.0
        keypoints, presence, next_roi = self._landmarks(image, roi)
        self._roi = next_roi if presence >= PRESENCE_THRESHOLD else None
        return keypoints, presence

    def estimate_image(self, image: Image) -> tuple[Floats, float]:
        self.reset()
        result = self.track(image)
        self.reset()
        return result

    def _landmarks(self, image: Image, roi: Roi) -> tuple[Floats, float, Roi]:
        height, width = image.shape[:2]
        with self.timer.stage("preprocess"):
            matrix = roi.to_crop_matrix(LANDMARK_SIZE)
            patch = cv2.warpAffine(
                image, matrix, (LANDMARK_SIZE, LANDMARK_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            tensor = (cv2.cvtColor(patch, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0)[np.newaxis]
        with self.timer.stage("infer"):
            raw, presence = self.landmarks.run(tensor, self._landmark_outputs)
        with self.timer.stage("postprocess"):
            values = raw.reshape(39, 5)
            pixels = invert_points(matrix, values[:, :2])
            keypoints = np.empty((33, 4), dtype=np.float32)
            keypoints[:, 0] = pixels[:33, 0] / width
            keypoints[:, 1] = pixels[:33, 1] / height
            keypoints[:, 2] = values[:33, 2] / LANDMARK_SIZE * roi.size / width
            keypoints[:, 3] = _sigmoid(values[:33, 3])
            centre, scale_point = pixels[33], pixels[34]
            next_roi = alignment_roi(
                (float(centre[0]), float(centre[1])), (float(scale_point[0]), float(scale_point[1])), ROI_ENLARGE
            )
        return keypoints, float(np.asarray(presence).reshape(-1)[0]), next_roi
