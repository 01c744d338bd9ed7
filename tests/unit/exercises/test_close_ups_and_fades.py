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


def with_drive(number: int, peak: float, frames_per_drive: int = 10) -> list[np.ndarray]:
    """`drives()` with drive `number` (a right-leg drive when odd) read as rising only to `peak` (0: the model
    put that knee on the standing leg for the whole drive, as it does while the figure dissolves into a logo)."""
    frames = drives(frames_per_drive)
    phases = np.linspace(0, 1, frames_per_drive)[:-1]
    first = 15 + number * len(phases)
    frames[first : first + len(phases)] = [high_knees(peak * float(np.sin(np.pi * t)), number % 2 == 0) for t in phases]
    return frames


def count(frames: list[np.ndarray]) -> int:
    return len(analyze_exercise(series(frames), get_exercise("high_knees"), "medium").reps)


def test_a_drive_the_model_sees_as_a_standing_leg_between_two_turns_of_that_leg_counts() -> None:
    """The right leg drove in the left leg's cycles before and after, and shows no attempt in this one: strict
    alternation says it drove there too (counted 11 of 12 before)."""
    assert count(with_drive(7, peak=0.0)) == DRIVES


def test_a_shallow_drive_between_two_turns_is_left_to_its_own_track() -> None:
    """A knee that rose only half-way was seen doing so: it is a shallow drive, not a missed one."""
    assert count(with_drive(7, peak=0.5)) == DRIVES - 1


def test_a_leg_that_stands_through_a_one_leg_drill_is_given_no_drives() -> None:
    """One knee driving again and again while the other leg stands (seen) is no alternation: nothing inferred."""
    frames = [high_knees(0.0, True)] * 15
    for _ in range(DRIVES):
        frames += [high_knees(float(np.sin(np.pi * t)), True) for t in np.linspace(0, 1, 20)[:-1]]
    assert count([*frames, *[high_knees(0.0, True)] * 15]) == DRIVES
