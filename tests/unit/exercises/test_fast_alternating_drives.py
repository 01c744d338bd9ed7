"""Fast alternating leg drives seen from the side (mountain climbers): each leg is counted on its own track.

The real clip's poses (tests/data/alternating) are the product's own series at the default analysis rate (every
frame of a 23.976 fps video). Its drives were counted by hand from the frames, one rep per knee drive: 28, the legs
taking turns every ~0.53 s (the near leg's thigh and shoe pass in front of the far leg's on every other drive); the
first is already at full flexion in frame 0, so the counter sees none of its way up and leaves it out (`cut_off`).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.results import RepResult
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


def climbers(drives: int, pause_after: int | None = None) -> list[Frame]:
    """Drives of alternating legs (the near leg first), 12 samples each at 30 fps, with a 1 s stop in the plank
    after drive number `pause_after`."""
    frames = [mountain_climber(0.0)] * 30
    for drive in range(drives):
        frames += [mountain_climber(float(np.sin(np.pi * t)), drive % 2 == 0) for t in np.linspace(0, 1, 12)]
        if drive == pause_after:
            frames += [mountain_climber(0.0)] * 30
    return frames + [mountain_climber(0.0)] * 30


def count(frames: list[Frame]) -> list[RepResult]:
    return list(analyze_exercise(series(frames), get_exercise("mountain_climber"), "medium").reps)


def test_a_far_leg_never_seen_drives_once_in_each_cycle_of_the_near_leg() -> None:
    """The left/right gap the count used to read needs both legs, so a hidden far leg counted nothing. Now the
    near leg's 4 drives count, and the far leg's 3 drives between them are inferred, graded like their
    neighbours. The far leg's last drive comes after the near leg's last and is not counted."""
    reps = count([hidden_far_leg(f) for f in climbers(8)])
    assert len(reps) == 7
    inferred = [r for r in reps if not r.criteria]  # nothing of their own was measured
    assert len(inferred) == 3
    assert {r.score for r in inferred} == {r.score for r in reps if r.criteria}
    seen = [r for r in reps if r.criteria]
    assert [r.peak_ms for r in inferred] == [(a.peak_ms + b.peak_ms) // 2 for a, b in itertools.pairwise(seen)]


def test_no_drive_is_inferred_across_a_pause_or_for_a_leg_that_is_seen() -> None:
    paused = count([hidden_far_leg(f) for f in climbers(8, pause_after=3)])
    assert len(paused) == 6  # the near leg's cycle across the stop is irregular: nothing inferred there
    assert len(count(climbers(8))) == 8  # both legs seen: each counts on its own track


def test_the_real_climber_with_one_leg_blanked_still_counts_nearly_every_drive() -> None:
    """The real clip with one leg's hip, knee and ankle scores set to 0 (a far leg the model never finds): the
    seen leg's 13-14 drives count, and the hidden leg's drives between them are inferred (0 counted before)."""
    poses = load_series(CLIMBER.read_bytes())
    counts = {}
    for side in ("left", "right"):
        keypoints = poses.keypoints.copy()
        keypoints[:, [COCO_KEYPOINTS.index(f"{side}_{j}") for j in ("hip", "knee", "ankle")], 3] = 0.0
        hidden = smooth_series(replace(poses, keypoints=keypoints))
        counts[side] = len(analyze_exercise(hidden, get_exercise("mountain_climber"), "medium").reps)
    assert counts == {"left": 25, "right": 27}
