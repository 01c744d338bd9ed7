"""Floor exercises from any camera height, and reps the clip opens or ends in.

A rep under way when the clip ends counts once its return is well under way (`counting`) or its target was held
`END_HOLD_S`; one that only touches the target as the clip ends does not. A sit-up's crunch, seen from any side,
counts through the alternative reading and is graded on the trunk angles it barely moved.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from uptrack.contract.messages import CounterMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.counting import find_candidates
from uptrack.exercises.reps import END_HOLD_S
from uptrack.exercises.session import exercise_messages
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO
from tests.unit.exercises.motions import glute_bridge
from tests.unit.exercises.stick_figures import Frame, series

FPS = 30.0
POSES = REPO / "tests" / "data" / "poses"


def _bridges(full: int, last_hold_s: float | None) -> list[Frame]:
    """Lying, `full` bridges up and down, then (when `last_hold_s` is set) one more rise held at the top for
    `last_hold_s` seconds until the clip ends."""
    rise = [glute_bridge(float(np.sin(np.pi * t / 2) ** 2)) for t in np.linspace(0, 1, int(FPS))]
    frames = [glute_bridge(0.0)] * int(FPS)
    for _ in range(full):
        frames += rise + [glute_bridge(1.0)] * int(FPS) + rise[::-1] + [glute_bridge(0.0)] * int(FPS)
    if last_hold_s is not None:
        frames += rise + [glute_bridge(1.0)] * int(last_hold_s * FPS)
    return frames


def _count(frames: list[Frame], exercise_id: str = "glute_bridge") -> int:
    return len(analyze_exercise(series(frames, fps=FPS), get_exercise(exercise_id), "medium").reps)


def test_a_bridge_held_at_the_top_when_the_clip_ends_counts() -> None:
    assert _count(_bridges(3, last_hold_s=END_HOLD_S + 0.5)) == 4


def test_a_lift_that_only_touches_the_top_as_the_clip_ends_does_not_count() -> None:
    assert _count(_bridges(3, last_hold_s=0.1)) == 3


def test_a_held_position_alone_is_not_a_set() -> None:
    assert _count(_bridges(0, last_hold_s=3.0)) == 0


def test_a_rep_the_clip_opens_in_after_unseen_frames_is_kept() -> None:
    """The first frames show nobody; the person is then seen half-way up and completes the rep."""
    opening = np.concatenate([np.full(4, np.nan), np.linspace(0.6, 1.6, 10), np.linspace(1.6, 0.0, 15)])
    progress = np.concatenate([opening, np.zeros(10)])
    (candidate,) = find_candidates(progress, np.ones(len(progress), dtype=bool))
    assert (candidate.start, candidate.completed) == (4, True)
    assert candidate.start < candidate.peak < candidate.end


def test_a_rep_the_clip_opens_in_counts_when_the_posture_check_settles_during_it() -> None:
    """A sit-up first seen near its top is not yet lying back: the posture check fails for the first frames."""
    progress = np.concatenate([np.linspace(0.6, 1.6, 10), np.linspace(1.6, 0.0, 15), np.zeros(10)])
    ready = np.ones(len(progress), dtype=bool)
    ready[:3] = False
    (candidate,) = find_candidates(progress, ready)
    assert candidate.completed and candidate.peak_progress >= 1.0


def _poses(stem: str) -> Path:
    return POSES / f"{stem}.npz"


def test_crunches_count_as_sit_ups_from_every_view_graded_on_the_trunk_angles() -> None:
    """Side, elevated 3/4 and head-on shots: seven crunches, each short of a sit-up's trunk angles (grade F), so
    a `minGrade` drops them all."""
    poses = smooth_series(load_series(_poses("crunch_3-camera-angles-side-3q-headon_7reps_tomnotchymk").read_bytes()))
    analysis = analyze_exercise(poses, get_exercise("sit_up"), "medium")
    assert [r.grade for r in analysis.reps] == ["F"] * 7
    final = exercise_messages(poses, AnalysisRequest(exercise="sit_up", min_grade="D"), get_exercise("sit_up"))[-2]
    assert isinstance(final, CounterMessage) and final.final and final.current_count == 0


def test_push_ups_never_read_as_crunches() -> None:
    """The head also comes closer to the knees in a push-up: on straight legs the crunch reading is not trusted."""
    for stem in ("pushup_side_3full_1shallow_msoldo", "pushup_front_dark_15reps_rjsong", "plank_hold_no_reps_rjsong"):
        poses = smooth_series(load_series(_poses(stem).read_bytes()))
        analysis = analyze_exercise(poses, get_exercise("sit_up"), "medium")
        assert not [r for r in analysis.reps if r.grade == "F"], stem


def test_a_sit_up_filmed_from_low_in_front_is_counted_on_the_trunk_incline() -> None:
    """From the feet the torso-thigh angle is foreshortened (it reads 115-125° at the top); the trunk's incline
    still shows each sit-up, so every rep reaches the target and is graded on it."""
    stem = "situp_decline-bench_low-front-3q_moving-camera_7reps_tanchoonmeng"
    poses = smooth_series(load_series(_poses(stem).read_bytes()))
    analysis = analyze_exercise(poses, get_exercise("sit_up"), "medium")
    assert analysis.view == "front"
    assert len(analysis.reps) == 7 and all(r.grade in ("A", "B") for r in analysis.reps)
