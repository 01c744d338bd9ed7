"""Photo mode through the CLI's entry point with the real pose model: the `keypoints` flag and `skeleton=false`."""

from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import pytest
from uptrack.contract.messages import BaseMessage, ImageOverlayMessage, dump_message
from uptrack.contract.params import AnalysisRequest
from uptrack.pipeline import analyze_path

PHOTO = "photos/mpii_051423444_standing_man.jpg"


def photo_messages(media_dir: Path, **flags: object) -> list[BaseMessage]:
    return list(analyze_path(media_dir / PHOTO, AnalysisRequest(source="image", **flags)))


@pytest.mark.parametrize(
    ("flags", "sent"),
    [
        ({}, set()),
        ({"keypoints": True}, {"keypoints"}),
        ({"angles": True}, {"angles"}),
        ({"keypoints": True, "angles": True}, {"keypoints", "angles"}),
    ],
)
def test_a_photo_sends_keypoints_and_angles_only_when_asked(
    media_dir: Path, flags: dict[str, object], sent: set[str]
) -> None:
    types = [dump_message(m)["type"] for m in photo_messages(media_dir, **flags)]
    assert {"keypoints", "angles"} & set(types) == sent
    assert types.count("image_overlay") == 1 and "error" not in types


def test_skeleton_false_sends_the_photo_without_a_skeleton(media_dir: Path) -> None:
    def overlay(skeleton: bool) -> np.ndarray:
        message = next(m for m in photo_messages(media_dir, skeleton=skeleton) if isinstance(m, ImageOverlayMessage))
        png = base64.b64decode(message.data.split(",", 1)[1])
        return cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)

    original = cv2.imread(str(media_dir / PHOTO))
    assert np.array_equal(overlay(False), original)
    assert not np.array_equal(overlay(True), original)
