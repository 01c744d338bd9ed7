"""Crop boxes and rotated regions of interest shared by the model wrappers."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Roi:
    """A square region in pixels: centre, side and rotation (radians, counter-clockwise in image coords)."""

    cx: float
    cy: float
    size: float
    rotation: float = 0.0

    def to_crop_matrix(self, out_size: int) -> Matrix:
        """Affine map from image pixels to an `out_size`² crop of this region (rotation removed)."""
        scale = out_size / self.size
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        # Rotate about the centre by -rotation, scale, then move the centre to the crop's centre.
        a, b = cos * scale, sin * scale
        return np.array(
            [
                [a, b, out_size / 2 - a * self.cx - b * self.cy],
                [-b, a, out_size / 2 + b * self.cx - a * self.cy],
            ],
            dtype=np.float64,
        )

    def crop(self, image: Image, out_size: int) -> tuple[Image, Matrix]:
        matrix = self.to_crop_matrix(out_size)
        patch = cv2.warpAffine(
            image, matrix, (out_size, out_size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
        )
        return np.asarray(patch, dtype=np.uint8), matrix


def invert_points(matrix: Matrix, points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Map (N, 2) crop-pixel points back to image pixels."""
    inverse = cv2.invertAffineTransform(matrix)
    homogeneous = np.concatenate([points.astype(np.float64), np.ones((points.shape[0], 1))], axis=1)
    mapped: npt.NDArray[np.float32] = (homogeneous @ inverse.T).astype(np.float32)
    return mapped


def alignment_roi(center: tuple[float, float], scale_point: tuple[float, float], enlarge: float = 1.25) -> Roi:
    """MediaPipe's alignment-points rect: centre point, a point fixing size and rotation, target 90°."""
    dx, dy = scale_point[0] - center[0], scale_point[1] - center[1]
    rotation = math.pi / 2 - math.atan2(-dy, dx)
    rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
    return Roi(center[0], center[1], 2.0 * math.hypot(dx, dy) * enlarge, rotation)
