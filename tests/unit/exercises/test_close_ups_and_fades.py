"""Alternating knee drives filmed in a close-up (feet out of frame) and fading out at the end of an edited clip."""

from __future__ import annotations

import numpy as np
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.pose.keypoints import COCO_INDEX

from tests.unit.exercises.motions import high_knees
from tests.unit.exercises.stick_figures import series

DRIVES = 12


def drives(frames_per_drive: int = 10) -> list[np.ndarray]:
    """`DRIVES` knee drives, legs alternating, between two still stands."""
    frames = [high_knees(0.0, True)] * 15
    for drive in range(DRIVES):
        phases = np.linspace(0, 1, frames_per_drive)[:-1]
        frames += [high_knees(float(np.sin(np.pi * t)), drive % 2 == 0) for t in phases]
    return [*frames, *[high_knees(0.0, True)] * 15]


def without_feet(frame: np.ndarray) -> np.ndarray:
    """The frame of a close-up framing the torso and thighs: the ankles are not found."""
    cropped = frame.copy()
    cropped[[COCO_INDEX["left_ankle"], COCO_INDEX["right_ankle"]], 2] = 0.0
    return cropped


def test_knee_drives_count_in_a_close_up_with_the_feet_out_of_frame() -> None:
    analysis = analyze_exercise(series([without_feet(f) for f in drives()]), get_exercise("high_knees"), "medium")
    assert len(analysis.reps) == DRIVES


def faded_out(frame: np.ndarray) -> np.ndarray:
    """A frame after the figure faded out of an edited clip: nothing is found."""
    gone = frame.copy()
    gone[:, 2] = 0.0
    return gone


def test_a_drive_whose_way_back_is_the_last_thing_seen_before_a_fade_out_counts() -> None:
    """The clip dissolves to a logo as the last drive comes back down: its last seen frame is most of the way back."""
    frames = drives()[:-15]
    last = [high_knees(float(np.sin(np.pi * t)), True) for t in np.linspace(0, 1, 10)[:8]]  # back to 0.64 of its peak
    frames += [*last, *[faded_out(high_knees(0.0, True))] * 30]
    analysis = analyze_exercise(series(frames), get_exercise("high_knees"), "medium")
    assert len(analysis.reps) == DRIVES + 1
