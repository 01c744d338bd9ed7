"""Drawing poses on frames: the image overlay of photo mode and the frames of exported videos."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from uptrack.media import Image
from uptrack.pose.keypoints import COCO_INDEX, DRAW_MIN_SCORE, SKELETON_EDGES

LEFT_COLOUR = (255, 170, 0)  # BGR: blue-ish for the left side
RIGHT_COLOUR = (0, 165, 255)  # orange for the right side
CENTRE_COLOUR = (240, 240, 240)


def _colour(first: str, second: str) -> tuple[int, int, int]:
    if first.startswith("left") and second.startswith("left"):
        return LEFT_COLOUR
    if first.startswith("right") and second.startswith("right"):
        return RIGHT_COLOUR
    return CENTRE_COLOUR


def draw_skeleton(image: Image, coco: npt.NDArray[np.float32]) -> Image:
    """A copy of `image` with the (17, 3) normalised COCO pose drawn; thickness follows the frame size."""
    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(2, round(min(width, height) / 180))
    points = coco[:, :2] * np.array([width, height], dtype=np.float32)
    visible = np.isfinite(points).all(axis=1) & (np.nan_to_num(coco[:, 2]) >= DRAW_MIN_SCORE)
    for first, second in SKELETON_EDGES:
        a, b = COCO_INDEX[first], COCO_INDEX[second]
        if visible[a] and visible[b]:
            start = (round(float(points[a, 0])), round(float(points[a, 1])))
            end = (round(float(points[b, 0])), round(float(points[b, 1])))
            cv2.line(canvas, start, end, _colour(first, second), thickness, cv2.LINE_AA)
    for index in np.flatnonzero(visible):
        centre = (round(float(points[index, 0])), round(float(points[index, 1])))
        cv2.circle(canvas, centre, thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return canvas


def encode_png(image: Image) -> bytes:
    ok, buffer = cv2.imencode(".png", image)
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit BGR image
        raise ValueError("PNG encoding failed")
    return bytes(buffer.tobytes())
