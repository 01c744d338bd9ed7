"""Parametric 2-D figures of the newer catalogue entries, from plain anatomy (segment lengths of `stick_figures`):
`REPS[id](phase)` with phase 0 in the start position and 1 at a clean rep, and `HOLD_POSES[id]`, one frame of
each held pose. No real footage exists for most of them; these check that each entry's signals, directions and
thresholds agree with the body they describe.
"""

from __future__ import annotations

import math

import numpy as np
from uptrack.pose.keypoints import COCO_INDEX

from tests.unit.exercises.motions import Point, Pose, front
from tests.unit.exercises.stick_figures import FOREARM, SHIN, THIGH, TORSO, UPPER_ARM, Frame, standing

SCORE = 0.8
LIMB = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def _at(start: Point, degrees_from_up: float, length: float) -> Point:
    """The point `length` away from `start`, `degrees_from_up` clockwise from straight up (90: towards +x)."""
    angle = math.radians(degrees_from_up)
    return start[0] + length * math.sin(angle), start[1] - length * math.cos(angle)


def figure(near: dict[str, Point], far: dict[str, Point] | None = None, head: Point | None = None) -> Frame:
    """(17, 3) frame from pixel joints of the near (left) side and the far (right) side (default: the same)."""
    far = {**near, **(far or {})}
    nose = head or (near["shoulder"][0], near["shoulder"][1] - 90)
    frame = np.zeros((17, 3), dtype=np.float32)
    points = {"nose": nose, "left_eye": nose, "right_eye": nose, "left_ear": nose, "right_ear": nose}
    points |= {f"left_{j}": near[j] for j in LIMB} | {f"right_{j}": far[j] for j in LIMB}
    for name, (x, y) in points.items():
        frame[COCO_INDEX[name]] = (x / 1000.0, y / 1000.0, SCORE)
    return frame


def _arms_hanging(shoulder: Point) -> dict[str, Point]:
    elbow = (shoulder[0], shoulder[1] + UPPER_ARM)
    return {"shoulder": shoulder, "elbow": elbow, "wrist": (elbow[0], elbow[1] + FOREARM)}


def deadlift(phase: float) -> Frame:
    """Side view from the floor (knees 110°, trunk 70° forward, arms hanging to the bar) to standing locked out."""
    ankle = (500.0, 900.0)
    knee_deg, trunk = 110 + 68 * phase, 70 - 68 * phase
    shin_tilt = 0.4 * (180 - knee_deg)
    knee = _at(ankle, shin_tilt, SHIN)
    hip = _at(knee, -((180 - knee_deg) - shin_tilt), THIGH)
    shoulder = _at(hip, trunk, TORSO)
    return figure({**_arms_hanging(shoulder), "hip": hip, "knee": knee, "ankle": ankle})


def tricep_dip(phase: float) -> Frame:
    """Side view on parallel bars: forearms vertical on the bars, the elbows bend from 170° to 80°."""
    wrist = (500.0, 500.0)
    elbow = (wrist[0], wrist[1] - FOREARM)
    shoulder = _at(elbow, 180 - (170 - 90 * phase), UPPER_ARM)
    hip = (shoulder[0], shoulder[1] + TORSO)
    knee = (hip[0], hip[1] + THIGH)
    return figure({"shoulder": shoulder, "elbow": elbow, "wrist": wrist, "hip": hip, "knee": knee,
                   "ankle": (knee[0], knee[1] + SHIN)})  # fmt: skip


def calf_raise(phase: float) -> Frame:
    """Standing tall; the heels rise so the whole body goes up by 0.12 shin lengths."""
    frame = standing(175)
    frame[:, 1] -= 0.12 * SHIN * phase / 1000.0
    return frame


def _plank() -> dict[str, Point]:
    wrist, ankle = (300.0, 850.0), (900.0, 850.0)
    shoulder = (wrist[0], wrist[1] - UPPER_ARM - FOREARM + 10)
    hip = ((shoulder[0] + ankle[0]) / 2, (shoulder[1] + ankle[1]) / 2)
    return {"shoulder": shoulder, "elbow": (300.0, shoulder[1] + UPPER_ARM), "wrist": wrist, "hip": hip,
            "knee": ((hip[0] + ankle[0]) / 2, (hip[1] + ankle[1]) / 2), "ankle": ankle}  # fmt: skip


def mountain_climber(phase: float, left: bool = True) -> Frame:
    """Straight-arm plank, side view; one thigh swings 85° from the body line towards the chest."""
    body = _plank()
    line = math.degrees(math.atan2(body["ankle"][0] - body["hip"][0], -(body["ankle"][1] - body["hip"][1])))
    knee = _at(body["hip"], line + 85 * phase, THIGH)
    driven = {"knee": knee, "ankle": _at(knee, 180.0, SHIN) if phase > 0.5 else _at(knee, line, SHIN)}
    near, far = ({**body, **driven}, body) if left else (body, {**body, **driven})
    return figure(near, far, head=(240.0, body["shoulder"][1] + 10))


def leg_raise(phase: float) -> Frame:
    """Lying on the back, side view: straight legs rise 70° from the floor."""
    shoulder, hip = (200.0, 800.0), (500.0, 800.0)
    knee = _at(hip, 90 - 70 * phase, THIGH)
    return figure({"shoulder": shoulder, "elbow": (320.0, 800.0), "wrist": (430.0, 800.0), "hip": hip,
                   "knee": knee, "ankle": _at(hip, 90 - 70 * phase, THIGH + SHIN)}, head=(110.0, 790.0))  # fmt: skip


def back_bend(phase: float) -> Frame:
    """Standing, side view, legs straight: the trunk bends forward from 10° to 50° off vertical."""
    ankle = (500.0, 900.0)
    knee = (ankle[0], ankle[1] - SHIN)
    hip = (knee[0], knee[1] - THIGH)
    shoulder = _at(hip, 10 + 40 * phase, TORSO)
    return figure({**_arms_hanging(shoulder), "hip": hip, "knee": knee, "ankle": ankle})


def shoulder_roll(phase: float) -> Frame:
    """Facing the camera, arms by the sides: both shoulders (and arms) lift by a tenth of the trunk."""
    frame = front()
    for side in ("left", "right"):
        for joint in ("shoulder", "elbow", "wrist"):
            frame[COCO_INDEX[f"{side}_{joint}"], 1] -= 0.1 * TORSO * phase / 1000.0
    return frame


REPS: dict[str, Pose] = {
    "deadlift": deadlift,
    "tricep_dip": tricep_dip,
    "calf_raise": calf_raise,
    "mountain_climber": mountain_climber,
    "leg_raise": leg_raise,
    "back_flexibility_test": back_bend,
    "shoulder_roll": shoulder_roll,
    "shoulder_deep_breath": lambda p: front(abduction=25 + 145 * p, elbow=175),
}
"""The newer repetition entries, as a function of rep phase."""

REP_SECONDS: dict[str, float] = {"mountain_climber": 0.6, "calf_raise": 1.5, "shoulder_deep_breath": 5.0}
"""Rep durations within each entry's ideal tempo (2 s otherwise)."""


def _seated(hip: Point, trunk_from_up: float) -> dict[str, Point]:
    """Sitting on the floor, straight legs forward (+x), trunk `trunk_from_up` degrees towards the legs."""
    shoulder = _at(hip, trunk_from_up, TORSO)
    return {**_arms_hanging(shoulder), "hip": hip, "knee": (hip[0] + THIGH, hip[1]),
            "ankle": (hip[0] + THIGH + SHIN, hip[1])}  # fmt: skip


def _split() -> tuple[dict[str, Point], dict[str, Point]]:
    hip = (500.0, 780.0)
    upright = {**_arms_hanging(_at(hip, 0.0, TORSO)), "hip": hip}
    return ({**upright, "knee": (700.0, 800.0), "ankle": (900.0, 820.0)},
            {**upright, "knee": (300.0, 800.0), "ankle": (100.0, 820.0)})  # fmt: skip


def _chair_fold() -> Frame:
    hip = (500.0, 600.0)
    shoulder = _at(hip, 50.0, TORSO)
    return figure({**_arms_hanging(shoulder), "hip": hip, "knee": (700.0, 600.0), "ankle": (700.0, 800.0)})


def _side_plank() -> Frame:
    ankle, shoulder = (800.0, 850.0), (300.0, 550.0)
    hip = ((ankle[0] + shoulder[0]) / 2, (ankle[1] + shoulder[1]) / 2)
    return figure({"shoulder": shoulder, "elbow": (300.0, 690.0), "wrist": (410.0, 690.0), "hip": hip,
                   "knee": ((hip[0] + ankle[0]) / 2, (hip[1] + ankle[1]) / 2), "ankle": ankle})  # fmt: skip


def _bridge() -> Frame:
    return figure({"shoulder": (200.0, 800.0), "elbow": (320.0, 800.0), "wrist": (430.0, 800.0),
                   "hip": (480.0, 680.0), "knee": (690.0, 590.0), "ankle": (720.0, 800.0)},
                  head=(110.0, 790.0))  # fmt: skip


def _cobra() -> Frame:
    hip = (500.0, 840.0)
    shoulder = _at(hip, -35.0, TORSO)
    wrist = (shoulder[0] + 5, shoulder[1] + 262)
    elbow = (shoulder[0] - 20, shoulder[1] + UPPER_ARM)
    return figure({"shoulder": shoulder, "elbow": elbow, "wrist": wrist, "hip": hip, "knee": (700.0, 845.0),
                   "ankle": (900.0, 850.0)}, head=(shoulder[0] - 40, shoulder[1] - 80))  # fmt: skip


def prone() -> Frame:
    """Lying face down, hands under the shoulders, elbows bent: the start of a cobra."""
    return figure({"shoulder": (300.0, 800.0), "elbow": (380.0, 760.0), "wrist": (310.0, 850.0),
                   "hip": (580.0, 830.0), "knee": (780.0, 840.0), "ankle": (980.0, 850.0)},
                  head=(230.0, 790.0))  # fmt: skip


def _bow() -> Frame:
    hip, knee = (500.0, 800.0), (700.0, 820.0)
    shoulder = _at(hip, -60.0, TORSO)
    ankle = (540.0, 700.0)
    wrist = (530.0, 695.0)
    return figure({"shoulder": shoulder, "elbow": ((shoulder[0] + wrist[0]) / 2, (shoulder[1] + wrist[1]) / 2),
                   "wrist": wrist, "hip": hip, "knee": knee, "ankle": ankle}, head=(200.0, 600.0))  # fmt: skip


def _tiger() -> Frame:
    arms = {"shoulder": (300.0, 600.0), "elbow": (300.0, 740.0), "wrist": (300.0, 850.0), "hip": (580.0, 600.0)}
    return figure({**arms, "knee": (580.0, 850.0), "ankle": (780.0, 850.0)},
                  {**arms, "knee": (770.0, 560.0), "ankle": (960.0, 520.0)}, head=(220.0, 560.0))  # fmt: skip


def _camel() -> Frame:
    hip = (500.0, 650.0)
    shoulder = _at(hip, -35.0, TORSO)
    wrist = (310.0, 840.0)
    return figure({"shoulder": shoulder, "elbow": ((shoulder[0] + wrist[0]) / 2, (shoulder[1] + wrist[1]) / 2),
                   "wrist": wrist, "hip": hip, "knee": (500.0, 850.0), "ankle": (300.0, 850.0)})  # fmt: skip


def _king_pigeon() -> Frame:
    arms = {"shoulder": (480.0, 520.0), "elbow": (450.0, 440.0), "wrist": (420.0, 380.0), "hip": (500.0, 800.0)}
    return figure({**arms, "knee": (700.0, 820.0), "ankle": (560.0, 850.0)},
                  {**arms, "knee": (300.0, 830.0), "ankle": (330.0, 640.0)})  # fmt: skip


def _foot_to_hand() -> Frame:
    up = {"shoulder": (500.0, 220.0), "elbow": (690.0, 370.0), "wrist": (880.0, 520.0), "hip": (500.0, 500.0)}
    return figure({**up, "knee": (700.0, 505.0), "ankle": (900.0, 520.0)},
                  {**up, "knee": (500.0, 700.0), "ankle": (500.0, 900.0)})  # fmt: skip


def _needle() -> Frame:
    hip = (500.0, 500.0)
    down = {"shoulder": (360.0, 742.0), "elbow": (370.0, 820.0), "wrist": (380.0, 900.0), "hip": hip}
    return figure({**down, "knee": (500.0, 700.0), "ankle": (500.0, 900.0)},
                  {**down, "knee": (640.0, 330.0), "ankle": (780.0, 160.0)}, head=(330.0, 780.0))  # fmt: skip


HOLD_POSES: dict[str, Frame] = {
    "side_plank": _side_plank(),
    "chair_forward_fold": _chair_fold(),
    "chair_side_stretch": front(abduction=170, elbow=175, hip_shift=(130.0, 0.0)),
    "split": figure(*_split()),
    "facial_split": figure(*_split()),
    "pancake": figure(_seated((500.0, 800.0), 65.0)),
    "closing": figure(_seated((500.0, 800.0), 55.0)),
    "bridge": _bridge(),
    "cobra": _cobra(),
    "bow": _bow(),
    "tiger": _tiger(),
    "camel": _camel(),
    "king_pigeon": _king_pigeon(),
    "foot_to_hand": _foot_to_hand(),
    "i": front(abduction=175, elbow=178, ankle_offset=20),
    "needle": _needle(),
}
"""One frame of each newer hold, in the pose its entry describes."""
