"""Fast alternating leg drives seen from the side (mountain climbers): each leg is counted on its own track.

The real clip's poses (tests/data/alternating) are the product's own series at the default analysis rate (every
frame of a 23.976 fps video). Its drives were counted by hand from the frames, one rep per knee drive: 28, the legs
taking turns every ~0.53 s (the near leg's thigh and shoe pass in front of the far leg's on every other drive); the
first is already at full flexion in frame 0, so the counter sees none of its way up and leaves it out (`cut_off`).
"""

from __future__ import annotations

import numpy as np
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.pose.keypoints import COCO_KEYPOINTS
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO
from tests.unit.exercises.catalogue_motions import mountain_climber
from tests.unit.exercises.stick_figures import Frame, series

CLIMBER = REPO / "tests" / "data" / "alternating" / "mountainclimber_side_woman_fast_55reps_prakharsingh.npz"
FAR_LEG = [i for i, name in enumerate(COCO_KEYPOINTS) if name.startswith("right_") and name[6:] in ("hip", "knee")]


def test_every_drive_of_a_fast_side_view_climber_is_found_on_one_leg_or_the_other() -> None:
    """Between two drives the back leg only gets to about 145°, never to a straight plank line, and the model
    sometimes swaps the legs' labels for a frame: both used to merge or clip drives (26 counted)."""
    poses = smooth_series(load_series(CLIMBER.read_bytes()))
    analysis = analyze_exercise(poses, get_exercise("mountain_climber"), "medium")
    assert [c.reason for c in analysis.candidates] == ["cut_off"] + ["counted"] * 27
    peaks_s = np.array([c.peak_ms for c in analysis.candidates]) / 1000.0
    assert np.all(np.diff(peaks_s) > 0.35)  # one candidate per drive, none split in two


def hidden_far_leg(frame: Frame) -> Frame:
    """The model never finds the far leg: its hip and knee scores are 0."""
    hidden = frame.copy()
    hidden[FAR_LEG, 2] = 0.0
    return hidden


def test_the_near_legs_drives_count_when_the_far_leg_is_never_seen() -> None:
    """The left/right gap the count used to read needs both legs, so a hidden far leg counted nothing. Each leg's
    own track still counts the seen leg's drives; the hidden leg's are not invented."""
    frames = [mountain_climber(0.0)] * 30
    for drive in range(8):
        frames += [mountain_climber(float(np.sin(np.pi * t)), drive % 2 == 0) for t in np.linspace(0, 1, 12)]
    frames += [mountain_climber(0.0)] * 30
    analysis = analyze_exercise(series([hidden_far_leg(f) for f in frames]), get_exercise("mountain_climber"), "medium")
    assert len(analysis.reps) == 4
