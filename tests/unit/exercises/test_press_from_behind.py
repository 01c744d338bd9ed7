"""Overhead presses filmed from behind: the image bends an arm at lockout (it leans toward or away from the camera),
so the elbow angle is not read there; how high and how straight up the arm reaches, over its own length, is."""

from __future__ import annotations

import numpy as np
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.clip import measure_clip
from uptrack.exercises.signals import compute_signals
from uptrack.pose.body import measure_body
from uptrack.pose.keypoints import COCO_INDEX, COCO_KEYPOINTS

from tests.unit.exercises.motions import Frame, front
from tests.unit.exercises.stick_figures import series

LOCKOUT_IN_IMAGE = 140.0
"""The elbow angle a camera behind a seated press reads at lockout (150-157 degrees from the front, same person)."""


def from_behind(frame: Frame) -> Frame:
    """The same image with the person's sides swapped: their left shoulder is now on the image's left."""
    swapped = frame.copy()
    for name in COCO_KEYPOINTS:
        if name.startswith("left_"):
            right = COCO_INDEX[name.replace("left_", "right_")]
            swapped[[COCO_INDEX[name], right]] = frame[[right, COCO_INDEX[name]]]
    return swapped


def press(phase: float) -> Frame:
    """Racked (upper arms level, elbows at 90 degrees) up to arms overhead bent to `LOCKOUT_IN_IMAGE` in the image."""
    return front(abduction=90 + 70 * phase, elbow=90 + (LOCKOUT_IN_IMAGE - 90) * phase)


def arm_reach(frame: Frame) -> float:
    signals = compute_signals(measure_body(np.asarray([frame]), 1000, 1000), frozenset({"arm_reach"}))
    return float(signals["arm_reach"][0])


def presses(reps: int) -> list[Frame]:
    frames = [press(0.0)] * 30
    for _ in range(reps):
        frames += [press(float(np.sin(np.pi * t) ** 2)) for t in np.linspace(0, 1, 60)]
    return frames + [press(0.0)] * 30


def test_the_shoulders_left_right_order_tells_a_camera_behind_from_one_in_front() -> None:
    frames = presses(1)
    facing = measure_clip(series(frames), get_exercise("shoulder_press"))
    behind = measure_clip(series([from_behind(f) for f in frames]), get_exercise("shoulder_press"))
    assert facing.facing.all() and not facing.behind.any()
    assert behind.facing.all() and behind.behind.all()


def test_arm_reach_is_one_overhead_and_a_half_racked() -> None:
    reach = np.array([arm_reach(f) for f in presses(1)])
    assert np.isclose(arm_reach(front(abduction=180, elbow=180)), 1.0, atol=1e-3)
    assert 0.45 < reach[0] < 0.55  # forearm straight up from a level upper arm: its share of the arm's length
    assert reach.max() > 0.93  # arms 20 degrees off vertical, bent to 140 in the image


def test_presses_filmed_from_behind_count_where_the_image_bends_the_elbow_at_lockout() -> None:
    frames = [from_behind(f) for f in presses(4)]
    analysis = analyze_exercise(series(frames), get_exercise("shoulder_press"), "medium")
    assert len(analysis.reps) == 4


def test_from_the_front_an_elbow_bent_to_140_degrees_is_no_lockout() -> None:
    analysis = analyze_exercise(series(presses(4)), get_exercise("shoulder_press"), "medium")
    assert not analysis.reps
    assert len(analysis.candidates) == 4
