"""Synthetic side-view stick figures as pose series: exact joint angles, so analysis tests know the truth."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from uptrack.pose.keypoints import COCO_INDEX, COCO_KEYPOINTS
from uptrack.pose.series import PoseSeries

Frame = npt.NDArray[np.float32]

SHIN, THIGH, TORSO, UPPER_ARM, FOREARM = 200.0, 200.0, 280.0, 140.0, 130.0
NEAR, FAR = 0.8, 0.6
"""Keypoint scores of the side facing the camera and of the far side."""


def _frame(points: dict[str, tuple[float, float]], width: int, height: int) -> Frame:
    """(17, 3) normalised x, y, score from pixel positions shared by both sides (a profile view)."""
    frame = np.zeros((17, 3), dtype=np.float32)
    for name in COCO_KEYPOINTS:
        joint = name.removeprefix("left_").removeprefix("right_")
        x, y = points[joint]
        frame[COCO_INDEX[name]] = (x / width, y / height, FAR if name.startswith("right_") else NEAR)
    return frame


def _head(shoulder: tuple[float, float], forward: float) -> dict[str, tuple[float, float]]:
    x, y = shoulder
    return {"nose": (x + forward, y - 90), "eye": (x + forward * 0.8, y - 100), "ear": (x, y - 95)}


def standing(knee_deg: float, width: int = 1000, height: int = 1000) -> Frame:
    """Side view, arms held forward, knees bent to `knee_deg` (180 straight), trunk leaning with depth."""
    shin = math.radians(0.3 * (180.0 - knee_deg))  # the shin tilts less than the thigh, as in a real squat
    thigh = math.radians(0.7 * (180.0 - knee_deg))
    lean = math.radians(10 + 0.25 * (180.0 - knee_deg))
    ankle = (width / 2, height * 0.9)
    knee = (ankle[0] + SHIN * math.sin(shin), ankle[1] - SHIN * math.cos(shin))
    hip = (knee[0] - THIGH * math.sin(thigh), knee[1] - THIGH * math.cos(thigh))
    shoulder = (hip[0] + TORSO * math.sin(lean), hip[1] - TORSO * math.cos(lean))
    elbow = (shoulder[0] + UPPER_ARM, shoulder[1])
    wrist = (elbow[0] + FOREARM, elbow[1])
    joints = {"ankle": ankle, "knee": knee, "hip": hip, "shoulder": shoulder, "elbow": elbow, "wrist": wrist}
    return _frame({**joints, **_head(shoulder, 40)}, width, height)


def forearm_plank(sag_px: float = 0.0, width: int = 1000, height: int = 1000) -> Frame:
    """Side view forearm plank: elbows under the shoulders, body straight (hips dropped by `sag_px`)."""
    ankle, shoulder = (850.0, 820.0), (250.0, 720.0)
    hip = ((ankle[0] + shoulder[0]) / 2, (ankle[1] + shoulder[1]) / 2 + sag_px)
    knee = ((ankle[0] + hip[0]) / 2, (ankle[1] + hip[1]) / 2)
    elbow = (shoulder[0], shoulder[1] + UPPER_ARM)
    wrist = (elbow[0] - FOREARM, elbow[1])
    joints = {"ankle": ankle, "knee": knee, "hip": hip, "shoulder": shoulder, "elbow": elbow, "wrist": wrist}
    return _frame({**joints, **_head(shoulder, -60)}, width, height)


def nobody() -> Frame:
    """A frame where the model found no one: every score 0 (coordinates meaningless)."""
    frame = np.full((17, 3), 0.5, dtype=np.float32)
    frame[:, 2] = 0.0
    return frame


def squat_knees(depths: Sequence[float], rep_s: float = 2.0, rest_s: float = 1.0, fps: float = 30.0) -> list[float]:
    """Knee angle per frame: standing, then one smooth squat to each depth with standing rests between."""
    rest = [175.0] * int(rest_s * fps)
    angles = list(rest)
    for depth in depths:
        phase = np.sin(np.linspace(0, np.pi, int(rep_s * fps))) ** 2
        angles += list(175.0 - (175.0 - depth) * phase)
        angles += rest
    return angles


def series(frames: Sequence[Frame], fps: float = 30.0, width: int = 1000, height: int = 1000) -> PoseSeries:
    """A PoseSeries of the frames at a constant frame rate (z unknown)."""
    coco = np.asarray(frames, dtype=np.float32).reshape(-1, 17, 3)
    keypoints = np.concatenate([coco[..., :2], np.full_like(coco[..., :1], np.nan), coco[..., 2:]], axis=-1)
    count = len(coco)
    return PoseSeries(
        model="synthetic",
        names=COCO_KEYPOINTS,
        frame_index=np.arange(count, dtype=np.int64),
        timestamp_ms=(np.arange(count) * 1000.0 / fps).astype(np.float32),
        keypoints=keypoints,
        presence=np.where(coco[:, :, 2].max(axis=1) > 0, 0.9, 0.0).astype(np.float32),
        width=width,
        height=height,
        fps=fps,
    )
