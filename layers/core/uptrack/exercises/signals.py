"""Joint signals the exercise catalogue refers to by name, computed once per clip from COCO keypoints.

Every signal is a per-frame float array, NaN where its keypoints were not seen confidently. Lengths are in
units of the body's own segments (measured on the clip), so the same thresholds work for a person far from the
camera and one filling a portrait frame. Left and right are combined per frame: both sides when both are seen
about as well (front view), the better-seen side otherwise (side view, where the far limb is guessed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Final, Literal

import numpy as np

from uptrack.angles import joint_angle
from uptrack.pose.body import Body, Floats

_SIDE_RATIO: Final = 0.7
"""When one side's confidence is below this share of the other's, only the better side is trusted."""

Pick = Literal["mean", "min", "max"]


def _combine(left: Floats, right: Floats, left_score: Floats, right_score: Floats, pick: Pick) -> Floats:
    """One value per frame from both sides: `pick` when both are comparably seen, else the better-seen side."""
    both = np.isfinite(left) & np.isfinite(right)
    lopsided = np.minimum(left_score, right_score) < _SIDE_RATIO * np.maximum(left_score, right_score)
    better = np.where(left_score >= right_score, left, right)
    if pick == "min":
        joint = np.fmin(left, right)
    elif pick == "max":
        joint = np.fmax(left, right)
    else:
        joint = (left + right) / 2
    single = np.where(np.isfinite(left), left, right)
    result: Floats = np.where(both, np.where(lopsided, better, joint), single)
    return result


def _sided(body: Body, measure: Callable[[str], Floats], joints: tuple[str, ...], pick: Pick = "mean") -> Floats:
    """Apply a one-side measure to both sides and combine them by their joints' weakest confidence."""
    left, right = measure("left"), measure("right")
    left_score = np.min([body.score(f"left_{j}") for j in joints], axis=0)
    right_score = np.min([body.score(f"right_{j}") for j in joints], axis=0)
    return _combine(left, right, left_score, right_score, pick)


def _angle(body: Body, first: str, vertex: str, last: str, pick: Pick = "mean") -> Floats:
    def measure(side: str) -> Floats:
        degrees = joint_angle(
            body.xy(f"{side}_{first}").astype(np.float32),
            body.xy(f"{side}_{vertex}").astype(np.float32),
            body.xy(f"{side}_{last}").astype(np.float32),
        )
        return degrees.astype(np.float64)

    return _sided(body, measure, (first, vertex, last), pick)


def _rise(body: Body, lower: str, upper: str, segment: str, pick: Pick = "mean") -> Floats:
    """How far `upper` sits above `lower`, in lengths of `segment` (image y grows downwards)."""
    length = body.segments[segment]

    def measure(side: str) -> Floats:
        result: Floats = (body.xy(f"{side}_{lower}")[:, 1] - body.xy(f"{side}_{upper}")[:, 1]) / length
        return result

    return _sided(body, measure, (lower, upper), pick)


def _mid(body: Body, joint: str) -> Floats:
    """Midpoint of a left/right pair, or the one side that was seen."""
    left, right = body.xy(f"left_{joint}"), body.xy(f"right_{joint}")
    mid: Floats = np.where(np.isfinite(left) & np.isfinite(right), (left + right) / 2, np.fmax(left, right))
    return mid


def torso_incline(body: Body) -> Floats:
    """Angle of the hip→shoulder line from vertical in degrees: 0 standing tall, 90 lying flat."""
    vector = _mid(body, "shoulder") - _mid(body, "hip")
    result: Floats = np.degrees(np.arctan2(np.abs(vector[:, 0]), -vector[:, 1]))
    return result


def shoulder_width(body: Body) -> Floats:
    """Shoulder-to-shoulder distance over the flank length: large facing the camera, small in profile."""
    distance = np.linalg.norm(body.xy("left_shoulder") - body.xy("right_shoulder"), axis=-1)
    result: Floats = distance / body.segments["flank"]
    return result


def shoulder_turn(body: Body) -> Floats:
    """How far the left shoulder lies to the image's right of the right one, over the flank length: positive with
    the person facing the camera (a mirror image), negative with the camera behind them."""
    result: Floats = (body.xy("left_shoulder")[:, 0] - body.xy("right_shoulder")[:, 0]) / body.segments["flank"]
    return result


def arm_reach(body: Body) -> Floats:
    """How far the wrist rises above the shoulder over the arm's length in the same frame (upper arm + forearm as
    the image shows them): 1 with a straight arm overhead, about 0.5 racked (forearm upright, upper arm level).
    Scale-free, so it needs no body length from the rest of the clip; an arm that leans toward or away from the
    camera shortens its rise and its length alike, where its elbow angle in the image bends."""

    def measure(side: str) -> Floats:
        shoulder, elbow, wrist = (body.xy(f"{side}_{joint}") for joint in ("shoulder", "elbow", "wrist"))
        length = np.linalg.norm(elbow - shoulder, axis=-1) + np.linalg.norm(wrist - elbow, axis=-1)
        result: Floats = (shoulder[:, 1] - wrist[:, 1]) / length
        return result

    return _sided(body, measure, ("shoulder", "elbow", "wrist"))


def ankle_spread(body: Body) -> Floats:
    """Horizontal distance between the ankles in shin lengths (feet apart in a jumping jack)."""
    result: Floats = np.abs(body.xy("left_ankle")[:, 0] - body.xy("right_ankle")[:, 0]) / body.segments["shin"]
    return result


def hip_height(body: Body, pick: Pick = "mean") -> Floats:
    """Hip above ankle in leg lengths (thigh + shin): about 1 standing, about 0.5 at parallel depth. With
    `pick="max"`, above the lower foot: a split squat's rear foot raised on a bench does not count as depth."""
    length = body.segments["thigh"] + body.segments["shin"]

    def measure(side: str) -> Floats:
        result: Floats = (body.xy(f"{side}_ankle")[:, 1] - body.xy(f"{side}_hip")[:, 1]) / length
        return result

    return _sided(body, measure, ("hip", "ankle"), pick)


def _foot_lift(body: Body, side: str) -> Floats:
    """How much higher `side`'s ankle is than the other one's, in shin lengths."""
    other = "right" if side == "left" else "left"
    result: Floats = (body.xy(f"{other}_ankle")[:, 1] - body.xy(f"{side}_ankle")[:, 1]) / body.segments["shin"]
    return result


def wrist_below_hip(body: Body) -> Floats:
    """Wrists below the hips in flank lengths: about 0 standing with arms down, about 1 with hands on the floor."""
    result: Floats = (_mid(body, "wrist")[:, 1] - _mid(body, "hip")[:, 1]) / body.segments["flank"]
    return result


def _knee_lift(body: Body, side: str) -> Floats:
    """How far one knee has risen from hanging straight below its hip, in thigh lengths: 0 standing, 1 with the
    knee at hip height. Needs only that leg, so a knee drive of the near leg in profile is seen even while the far
    leg is hidden, and a far-leg drive whenever its knee shows."""
    result: Floats = 1.0 + (body.xy(f"{side}_hip")[:, 1] - body.xy(f"{side}_knee")[:, 1]) / body.segments["thigh"]
    return result


def _paired_side(body: Body, side: str, first: str, vertex: str, last: str) -> Floats:
    """One side's angle, only where both sides are comparably seen (NaN in profile): input to symmetry checks."""
    sides = {}
    for name in ("left", "right"):
        points = [body.xy(f"{name}_{j}").astype(np.float32) for j in (first, vertex, last)]
        score = np.min([body.score(f"{name}_{j}") for j in (first, vertex, last)], axis=0)
        sides[name] = (joint_angle(*points).astype(np.float64), score)
    (_, left_score), (_, right_score) = sides["left"], sides["right"]
    comparable = np.minimum(left_score, right_score) >= _SIDE_RATIO * np.maximum(left_score, right_score)
    result: Floats = np.where(comparable, sides[side][0], np.nan)
    return result


def _one_side_angle(body: Body, side: str, first: str, vertex: str, last: str) -> Floats:
    """One side's angle whatever the other side's confidence (NaN only where this side's joints were not seen)."""
    points = (body.xy(f"{side}_{joint}").astype(np.float32) for joint in (first, vertex, last))
    result: Floats = joint_angle(*points).astype(np.float64)
    return result


def _raw_angle(body: Body, first: str, vertex: str, last: str, pick: Literal["min", "max"]) -> Floats:
    """Both sides' angle combined by `pick` whatever their confidence: for poses where one limb does something
    different from the other (one leg driven forward, one leg extended back), the far limb must not be dropped."""
    left, right = (_one_side_angle(body, side, first, vertex, last) for side in ("left", "right"))
    result: Floats = np.fmin(left, right) if pick == "min" else np.fmax(left, right)
    return result


def body_rise(body: Body) -> Floats:
    """How far the whole body stands above its lowest position on the clip, in shin lengths (a calf raise lifts
    ankles, knees, hips and shoulders together by the heel's rise); the mean over the joints seen damps jitter.

    The lowest position is each joint's 90th percentile image height: a still camera sees the feet flat most of
    the time between raises."""
    rises = []
    for joint in ("ankle", "knee", "hip", "shoulder"):
        for side in ("left", "right"):
            heights = body.xy(f"{side}_{joint}")[:, 1]
            if np.count_nonzero(np.isfinite(heights)) >= 5:
                rises.append((np.nanpercentile(heights, 90) - heights) / body.segments["shin"])
    if not rises:
        return np.full(len(body.points), np.nan)
    with np.errstate(invalid="ignore"):
        result: Floats = np.nanmean(np.vstack(rises), axis=0)
    return result


def neck_shrug(body: Body) -> Floats:
    """Shoulders raised towards the ears, in flank lengths, against the clip's relaxed neck (its 90th percentile
    nose-to-shoulder height): 0 relaxed, about 0.1 at the top of a shoulder roll."""
    neck = _mid(body, "shoulder")[:, 1] - body.xy("nose")[:, 1]
    if np.count_nonzero(np.isfinite(neck)) < 5:
        return np.full(len(neck), np.nan)
    result: Floats = (np.nanpercentile(neck, 90) - neck) / body.segments["flank"]
    return result


def nose_to_knees(body: Body) -> Floats:
    """Nose-to-knees distance in (flank + thigh) lengths: it shrinks as the trunk curls up, whatever the camera's
    side or height (a crunch seen head-on shows only as the head coming down the body, not as a trunk angle)."""
    length = body.segments["flank"] + body.segments["thigh"]
    result: Floats = np.linalg.norm(body.xy("nose") - _mid(body, "knee"), axis=-1) / length
    return result


def leg_split_angle(body: Body) -> Floats:
    """Angle between the two thighs at the hips in degrees: about 10 standing, 180 in a full split (front split in
    profile, middle split facing the camera)."""
    hip = _mid(body, "hip")
    left, right = body.xy("left_knee") - hip, body.xy("right_knee") - hip
    cosine = np.sum(left * right, axis=-1) / (np.linalg.norm(left, axis=-1) * np.linalg.norm(right, axis=-1))
    result: Floats = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return result


def wrist_to_ankle(body: Body) -> Floats:
    """Closest hand-to-foot distance in shin lengths (either hand, either foot): small when a hand holds a foot."""
    pairs = [
        np.linalg.norm(body.xy(f"{hand}_wrist") - body.xy(f"{foot}_ankle"), axis=-1)
        for hand in ("left", "right")
        for foot in ("left", "right")
    ]
    with np.errstate(invalid="ignore"):
        result: Floats = np.nanmin(np.vstack(pairs), axis=0) / body.segments["shin"]
    return result


def thigh_rise(body: Body) -> Floats:
    """Vertical extent of the more horizontal thigh in thigh lengths (knee below hip): 1 standing, about 0 with the
    thigh parallel to the floor at the bottom of a squat (V4's `min_leg_ratio`)."""
    lifts = [
        (body.xy(f"{s}_knee")[:, 1] - body.xy(f"{s}_hip")[:, 1]) / body.segments["thigh"] for s in ("left", "right")
    ]
    with np.errstate(invalid="ignore"):
        result: Floats = np.fmin(lifts[0], lifts[1])
    return result


SignalFn = Callable[[Body], Floats]

SIGNALS: Final[Mapping[str, SignalFn]] = {
    "knee_angle": lambda b: _angle(b, "hip", "knee", "ankle"),
    "front_knee_angle": lambda b: _angle(b, "hip", "knee", "ankle", "min"),
    "straighter_knee_angle": lambda b: _angle(b, "hip", "knee", "ankle", "max"),
    "hip_angle": lambda b: _angle(b, "knee", "hip", "shoulder"),
    "elbow_angle": lambda b: _angle(b, "shoulder", "elbow", "wrist"),
    "shoulder_angle": lambda b: _angle(b, "hip", "shoulder", "elbow"),
    "body_line": lambda b: _angle(b, "shoulder", "hip", "ankle"),
    **{
        f"{joint}_angle_{side}": partial(_paired_side, side=side, first=first, vertex=joint, last=last)
        for joint, first, last in (
            ("knee", "hip", "ankle"),
            ("elbow", "shoulder", "wrist"),
            ("shoulder", "hip", "elbow"),
        )
        for side in ("left", "right")
    },
    "hip_height": hip_height,
    "hip_over_lower_foot": partial(hip_height, pick="max"),
    "shoulder_over_wrist": lambda b: _rise(b, "wrist", "shoulder", "upper_arm"),
    "wrist_over_elbow": lambda b: _rise(b, "elbow", "wrist", "forearm"),
    "wrist_over_shoulder": lambda b: _rise(b, "shoulder", "wrist", "upper_arm"),
    "elbow_over_shoulder": lambda b: _rise(b, "shoulder", "elbow", "upper_arm"),
    "shoulder_over_elbow": lambda b: _rise(b, "elbow", "shoulder", "upper_arm"),
    "knee_lift_left": partial(_knee_lift, side="left"),
    "knee_lift_right": partial(_knee_lift, side="right"),
    "ankle_spread": ankle_spread,
    "torso_incline": torso_incline,
    "wrist_below_hip": wrist_below_hip,
    "shoulder_width": shoulder_width,
    "shoulder_turn": shoulder_turn,
    "arm_reach": arm_reach,
    "left_foot_lift": lambda b: _foot_lift(b, "left"),
    "right_foot_lift": lambda b: _foot_lift(b, "right"),
    "foot_lift": lambda b: np.abs(_foot_lift(b, "left")),
    "hip_angle_min": lambda b: _raw_angle(b, "knee", "hip", "shoulder", "min"),
    "hip_angle_max": lambda b: _raw_angle(b, "knee", "hip", "shoulder", "max"),
    **{
        f"leg_hip_angle_{side}": partial(_one_side_angle, side=side, first="knee", vertex="hip", last="shoulder")
        for side in ("left", "right")
    },
    "knee_angle_min": lambda b: _raw_angle(b, "hip", "knee", "ankle", "min"),
    "raised_arm_angle": lambda b: _raw_angle(b, "hip", "shoulder", "elbow", "max"),
    "support_arm": lambda b: _rise(b, "elbow", "shoulder", "upper_arm", "max"),
    "hip_over_shoulder": lambda b: _rise(b, "shoulder", "hip", "flank"),
    "body_rise": body_rise,
    "neck_shrug": neck_shrug,
    "leg_split_angle": leg_split_angle,
    "nose_to_knees": nose_to_knees,
    "wrist_to_ankle": wrist_to_ankle,
    "thigh_rise": thigh_rise,
}
"""Every signal name a catalogue entry may use."""


def compute_signals(body: Body, names: frozenset[str]) -> dict[str, Floats]:
    """The named signals for one clip; unknown names raise KeyError (the catalogue is checked by tests)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {name: SIGNALS[name](body) for name in sorted(names)}
