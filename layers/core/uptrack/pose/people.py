"""Photo mode: does the photo show more than one person? The pose models follow one, so the user is told.

MoveNet single-pose cannot say (one skeleton, no person count) and BlazePose's detector, run once on the whole
photo, finds only the most prominent person: a 224-pixel letterbox leaves the others too small. So the detector
runs on the whole photo and on four overlapping corner tiles (each 60 % of a side): people too small in the whole
photo are large enough in a tile. Detections of one person overlap (a tile shows part of the same body), so a
detection whose centre lies inside another one's ROI (the square the landmark model would crop, which holds the
whole body) is the same person. Five detector runs, photos only; docs/contract.md gives the measured cost and the
hits and misses.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

from uptrack.contract.messages import WarningMessage
from uptrack.pose.blazepose import BlazePose, BlazePoseDetector
from uptrack.pose.engine import PERSON_DETECTOR_FILE, PoseEstimator
from uptrack.pose.geometry import Image, Roi
from uptrack.pose.movenet import MoveNet
from uptrack.pose.timing import StageTimer

MULTIPLE_PEOPLE = "multiple_people"
TILE_FRACTION = 0.6


@cache
def _detector_at(path: Path) -> BlazePoseDetector:
    """Loaded once per process: a warm Lambda analyses many photos."""
    return BlazePoseDetector(path, 1, StageTimer())


def person_detector(estimator: PoseEstimator) -> BlazePoseDetector:
    """BlazePose's own detector, or the one beside MoveNet's model file (the models folder holds both)."""
    if isinstance(estimator, BlazePose):
        return estimator.detector
    if isinstance(estimator, MoveNet):
        return _detector_at(estimator.model.path.parent / PERSON_DETECTOR_FILE)
    raise TypeError(f"no person detector for {estimator.name}")


def _tiles(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """(x, y, width, height): the whole photo, then its four corner tiles."""
    tile_w, tile_h = math.ceil(width * TILE_FRACTION), math.ceil(height * TILE_FRACTION)
    corners = [(x, y) for x in (0, width - tile_w) for y in (0, height - tile_h)]
    return [(0, 0, width, height)] + [(x, y, tile_w, tile_h) for x, y in corners]


def detected_people(image: Image, detector: BlazePoseDetector) -> list[Roi]:
    """One ROI per distinct person found, in photo pixels, the whole photo's detection first."""
    height, width = image.shape[:2]
    people: list[Roi] = []
    for x, y, tile_w, tile_h in _tiles(width, height):
        roi = detector.detect(image[y : y + tile_h, x : x + tile_w])
        if roi is None:
            continue
        found = Roi(roi.cx + x, roi.cy + y, roi.size, roi.rotation)
        if all(not _same_person(found, known) for known in people):
            people.append(found)
    return people


def _same_person(a: Roi, b: Roi) -> bool:
    return math.hypot(a.cx - b.cx, a.cy - b.cy) <= max(a.size, b.size) / 2


def multiple_people_warnings(image: Image, estimator: PoseEstimator) -> list[WarningMessage]:
    """A `multiple_people` warning when the photo shows more than one person, else nothing."""
    count = len(detected_people(image, person_detector(estimator)))
    if count < 2:
        return []
    return [
        WarningMessage.of(
            MULTIPLE_PEOPLE,
            f"{count} people found in the photo; only one is analysed ({estimator.name} follows the most "
            "prominent person). Crop the photo to the person to analyse.",
        )
    ]
