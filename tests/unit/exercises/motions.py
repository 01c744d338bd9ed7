"""Parametric 2-D poses of each catalogue exercise: `pose(phase)` with phase 0 in the start position and 1 at a full,
clean rep. Geometry is plain anatomy (segment lengths in pixels of a 1000×1000 frame), never fitted to a clip:
these exercise the catalogue entries that have no real footage in the shared media.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from uptrack.pose.keypoints import COCO_INDEX

from tests.unit.exercises.stick_figures import FOREARM, SHIN, THIGH, TORSO, UPPER_ARM, Frame, standing

Point = tuple[float, float]
Pose = Callable[[float], Frame]
SCORE = 0.8


def _frame(points: dict[str, Point]) -> Frame:
    """(17, 3) from per-keypoint pixel positions (COCO names); keypoints not given reuse the nearest side's."""
    frame = np.zeros((17, 3), dtype=np.float32)
    for name, (x, y) in points.items():
        frame[COCO_INDEX[name]] = (x / 1000.0, y / 1000.0, SCORE)
    return frame


def _add(a: Point, b: Point, scale: float = 1.0) -> Point:
    return a[0] + scale * b[0], a[1] + scale * b[1]


def _direction(degrees_from_down: float, outward: float) -> Point:
    """Unit vector `degrees_from_down` away from straight down, towards +x when `outward` is +1."""
    angle = math.radians(degrees_from_down)
    return outward * math.sin(angle), math.cos(angle)


def _joint(start: Point, end: Point, bend: float, first: float = THIGH, second: float = SHIN) -> Point:
    """Middle joint of a limb from `start` to `end` (segments `first`, `second`; inverse kinematics), bending
    to the left of the start→end line when `bend` is +1."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    reach = min(math.hypot(dx, dy), first + second - 1e-6)
    along = (first**2 - second**2 + reach**2) / (2 * reach)
    across = math.sqrt(max(first**2 - along**2, 0.0))
    ux, uy = dx / math.hypot(dx, dy), dy / math.hypot(dx, dy)
    return start[0] + along * ux - bend * across * uy, start[1] + along * uy + bend * across * ux


def front(
    abduction: float = 15.0,
    elbow: float = 175.0,
    ankle_offset: float = 25.0,
    lift: tuple[float, float] = (0.0, 0.0),
    hip_shift: Point = (0.0, 0.0),
    left_ankle_offset: float | None = None,
) -> Frame:
    """Facing the camera (the person's left is image right). `lift` raises each knee (0 down, 1 at hip height)."""
    points: dict[str, Point] = {"nose": (500, 160), "left_eye": (520, 150), "right_eye": (480, 150)}
    points |= {"left_ear": (540, 160), "right_ear": (460, 160)}
    for side, out in (("left", 1.0), ("right", -1.0)):
        shoulder = (500 + out * 90, 250.0)
        upper = _direction(abduction, out)
        elbow_at = _add(shoulder, upper, UPPER_ARM)
        bend = math.radians(180.0 - elbow)  # forearm turns up and in from the upper arm's line
        fore = (
            upper[0] * math.cos(bend) + out * upper[1] * math.sin(bend),
            upper[1] * math.cos(bend) - out * upper[0] * math.sin(bend),
        )
        hip = (500 + out * 60 + hip_shift[0], 250 + TORSO + hip_shift[1])
        offset = left_ankle_offset if side == "left" and left_ankle_offset is not None else ankle_offset
        raised = lift[0] if side == "left" else lift[1]
        knee = _add(hip, (0.0, math.cos(math.radians(90 * raised))), THIGH) if raised else None
        ankle = _add(knee, (0.0, 1.0), SHIN) if knee else (500 + out * offset, 250 + TORSO + THIGH + SHIN)
        knee = knee or _joint(hip, ankle, out)
        points |= {f"{side}_shoulder": shoulder, f"{side}_elbow": elbow_at, f"{side}_hip": hip}
        points |= {f"{side}_wrist": _add(elbow_at, fore, FOREARM), f"{side}_knee": knee, f"{side}_ankle": ankle}
    return _frame(points)


def _side(joints: dict[str, Point], head: Point) -> Frame:
    """Profile: both sides share positions (the far side is where the near one is)."""
    points = {"nose": head, "left_eye": _add(head, (-10, -10)), "right_eye": _add(head, (-10, -10))}
    points |= {"left_ear": _add(head, (-30, 0)), "right_ear": _add(head, (-30, 0))}
    points |= {f"{side}_{joint}": at for joint, at in joints.items() for side in ("left", "right")}
    return _frame(points)


def curl(phase: float) -> Frame:
    """Side view, upper arm still by the trunk, forearm from straight down (elbow 170°) up to elbow 40°."""
    frame = standing(175)
    shoulder = (frame[COCO_INDEX["left_shoulder"], 0] * 1000, frame[COCO_INDEX["left_shoulder"], 1] * 1000)
    elbow = _add(shoulder, (0, 1), UPPER_ARM)
    wrist = _add(elbow, _direction(180 - (170 - 130 * phase), 1), FOREARM)
    for side in ("left", "right"):
        frame[COCO_INDEX[f"{side}_elbow"], :2] = np.array(elbow) / 1000
        frame[COCO_INDEX[f"{side}_wrist"], :2] = np.array(wrist) / 1000
    return frame


def push_up(phase: float) -> Frame:
    """Side view plank on straight arms lowering until the elbows reach 60°; wrists fixed under the shoulders."""
    elbow_deg = 170 - 110 * phase
    wrist, ankle = (300.0, 850.0), (900.0, 850.0)
    reach = math.sqrt(UPPER_ARM**2 + FOREARM**2 - 2 * UPPER_ARM * FOREARM * math.cos(math.radians(elbow_deg)))
    shoulder = (wrist[0], wrist[1] - reach)
    elbow = _joint(shoulder, wrist, -1.0, UPPER_ARM, FOREARM)  # the elbow points back, towards the feet
    hip = ((shoulder[0] + ankle[0]) / 2, (shoulder[1] + ankle[1]) / 2)
    knee = ((hip[0] + ankle[0]) / 2, (hip[1] + ankle[1]) / 2)
    joints = {"shoulder": shoulder, "elbow": elbow, "wrist": wrist, "hip": hip, "knee": knee, "ankle": ankle}
    return _side(joints, _add(shoulder, (-60, 10)))


def lunge(phase: float) -> Frame:
    """Side view split stance; the hips drop 190 px so the front knee goes from straight to about 90°."""
    hip = (450.0, 520.0 + 190 * phase)
    front_ankle, back_ankle = (620.0, 900.0), (280.0, 900.0)
    shoulder = _add(hip, (10, -TORSO))
    points: dict[str, Point] = {"nose": _add(shoulder, (40, -90))}
    for side, ankle, bend in (("left", front_ankle, -1.0), ("right", back_ankle, -1.0)):
        points |= {f"{side}_hip": hip, f"{side}_ankle": ankle, f"{side}_knee": _joint(hip, ankle, bend)}
        points |= {f"{side}_shoulder": shoulder, f"{side}_elbow": _add(shoulder, (0, UPPER_ARM))}
        points |= {f"{side}_wrist": _add(shoulder, (0, UPPER_ARM + FOREARM))}
    points |= {"left_eye": points["nose"], "right_eye": points["nose"]}
    points |= {"left_ear": _add(points["nose"], (-30, 0)), "right_ear": _add(points["nose"], (-30, 0))}
    return _frame(points)


def sit_up(phase: float) -> Frame:
    """Side view, knees bent, hands behind the head: the trunk rises from lying (85° from vertical) to 15°."""
    hip, knee, ankle = (500.0, 800.0), (650.0, 680.0), (780.0, 800.0)
    incline = math.radians(85 - 70 * phase)
    shoulder = _add(hip, (-math.sin(incline), -math.cos(incline)), TORSO)
    elbow = _add(shoulder, (-math.sin(incline), -math.cos(incline)), 60)
    joints = {"shoulder": shoulder, "elbow": elbow, "wrist": _add(elbow, (10, -40)), "hip": hip}
    return _side({**joints, "knee": knee, "ankle": ankle}, _add(shoulder, (-math.sin(incline) * 90, -60)))


def glute_bridge(phase: float) -> Frame:
    """Side view on the back, knees bent: the hips rise until shoulders, hips and knees line up."""
    shoulder, knee, ankle = (200.0, 800.0), (650.0, 650.0), (780.0, 800.0)
    hip = (480.0, 800.0 - 93 * phase)
    joints = {"shoulder": shoulder, "elbow": (300.0, 800.0), "wrist": (420.0, 800.0), "hip": hip}
    return _side({**joints, "knee": knee, "ankle": ankle}, (120.0, 790.0))


def pull_up(phase: float) -> Frame:
    """Back view hanging from a bar (wrists fixed); elbows bend from 170° to 50°, lifting the body."""
    elbow_deg = 170 - 120 * phase
    reach = math.sqrt(UPPER_ARM**2 + FOREARM**2 - 2 * UPPER_ARM * FOREARM * math.cos(math.radians(elbow_deg)))
    points: dict[str, Point] = {}
    drop = math.sqrt(max(reach**2 - 40**2, 0.0))
    for side, out in (("left", 1.0), ("right", -1.0)):
        wrist = (500 + out * 150, 120.0)
        shoulder = (500 + out * 110, 120 + drop)
        elbow = _joint(shoulder, wrist, -out, UPPER_ARM, FOREARM)  # elbows flare outwards
        hip = (500 + out * 60, shoulder[1] + TORSO)
        knee = _add(hip, (0, THIGH))
        points |= {f"{side}_wrist": wrist, f"{side}_shoulder": shoulder, f"{side}_elbow": elbow}
        points |= {f"{side}_hip": hip, f"{side}_knee": knee, f"{side}_ankle": _add(knee, (0, SHIN))}
    nose = (500.0, 120 + drop - 80)
    points |= {"nose": nose, "left_eye": nose, "right_eye": nose}
    points |= {"left_ear": _add(nose, (25, 0)), "right_ear": _add(nose, (-25, 0))}
    return _frame(points)


MOTIONS: dict[str, Pose] = {
    "squat": lambda p: standing(175 - 95 * p),
    "push_up": push_up,
    "lunge": lunge,
    "side_lunge": lambda p: front(ankle_offset=260, hip_shift=(150 * p, 170 * p)),
    "bicep_curl": curl,
    "hammer_curl": curl,
    "jumping_jack": lambda p: front(abduction=15 + 155 * p, ankle_offset=25 + 180 * p),
    "low_impact_jack": lambda p: front(abduction=15 + 135 * p, ankle_offset=25 + 120 * p),
    "shoulder_press": lambda p: front(abduction=90 + 80 * p, elbow=90 + 85 * p),
    "lateral_raise": lambda p: front(abduction=15 + 80 * p, elbow=170),
    "glute_bridge": glute_bridge,
    "sit_up": sit_up,
    "pull_up": pull_up,
}
"""Every repetition exercise of the catalogue, as a function of rep phase."""


def high_knees(phase: float, left: bool) -> Frame:
    """Facing the camera, one knee driven up to hip height at phase 1."""
    return front(lift=(phase, 0.0) if left else (0.0, phase))


HOLDS: dict[str, Frame] = {
    "wall_sit": standing(90),
    "balance_leg": front(lift=(0.7, 0.0)),
    "balance_leg_left": front(lift=(0.0, 0.7)),
    "balance_leg_right": front(lift=(0.7, 0.0)),
}
"""A clean hold position per duration exercise (the plank has its own figure)."""
