"""Counting on footage whose camera never shows the catalogue's start position, alternating limbs, and motion that
is not the exercise asked for."""

from __future__ import annotations

import numpy as np
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.counting import Candidate, find_candidates
from uptrack.exercises.reps import MAX_OWN_REST, RELATIVE_DEPTH, SAME_VIEW_WIDTH, depth_bars, from_own_rest

from tests.unit.exercises.motions import front, high_knees, pull_up
from tests.unit.exercises.stick_figures import series, standing

FPS = 30.0


def oscillation(low: float, high: float, reps: int, rep_s: float = 2.0) -> np.ndarray:
    """Progress swinging `reps` times between `low` and `high` (a raised cosine per rep), starting at `low`."""
    t = np.arange(int(reps * rep_s * FPS)) / FPS
    return low + (high - low) * (1 - np.cos(2 * np.pi * t / rep_s)) / 2


def test_a_foreshortened_start_position_is_taken_from_the_returns_between_reps() -> None:
    progress = oscillation(0.6, 1.8, reps=6)
    ready = np.ones(len(progress), dtype=bool)
    assert len(find_candidates(progress, ready)) == 1  # one excursion that never comes back to rest
    rebased = from_own_rest(progress)
    assert len(find_candidates(rebased, ready)) == 6
    assert np.isclose(rebased.max(), (1.8 - 0.6) / 0.4)


def test_returns_close_to_the_target_or_below_rest_keep_the_catalogue_start_position() -> None:
    never_leaves = oscillation(MAX_OWN_REST + 0.1, 1.8, reps=6)
    full_returns = oscillation(0.0, 1.8, reps=6)
    assert np.array_equal(from_own_rest(never_leaves), never_leaves)
    assert np.array_equal(from_own_rest(full_returns), full_returns)


def test_pull_ups_seen_from_below_count_although_the_hang_never_looks_straight() -> None:
    """The elbow reads 120° at the dead hang (camera below the bar): the catalogue rest of 160° never shows."""
    frames = [pull_up(0.4)] * 30
    for _ in range(5):
        frames += [pull_up(0.4 + 0.6 * float(np.sin(np.pi * t) ** 2)) for t in np.linspace(0, 1, 60)]
    frames += [pull_up(0.4)] * 30
    analysis = analyze_exercise(series(frames), get_exercise("pull_up"), "medium")
    assert len(analysis.reps) == 5


def test_high_knees_count_each_leg_when_the_drives_follow_each_other_without_a_pause() -> None:
    """Three drives a second: the knees cross for one sample between drives, never both down for long."""
    frames = [high_knees(0.0, True)] * 15
    for drive in range(12):
        frames += [high_knees(float(np.sin(np.pi * t)), drive % 2 == 0) for t in np.linspace(0, 1, 10)[:-1]]
    frames += [high_knees(0.0, True)] * 15
    analysis = analyze_exercise(series(frames), get_exercise("high_knees"), "medium")
    assert len(analysis.reps) == 12


def moved(frame: np.ndarray, dx: float) -> np.ndarray:
    shifted = frame.copy()
    shifted[:, 0] += dx
    return shifted


def test_moving_without_a_rep_of_the_exercise_is_a_mismatch_and_standing_still_is_not() -> None:
    """Swaying from side to side and waving for 8 s, analysed as squats: nothing counted, the stretch reported."""
    dancing = [
        moved(front(abduction=15 + 140 * float(np.sin(np.pi * t) ** 2)), 0.1 * np.sin(np.pi * t))
        for t in np.arange(240) / FPS
    ]
    moving = analyze_exercise(series(dancing), get_exercise("squat"), "medium")
    still = analyze_exercise(series([standing(175)] * 240), get_exercise("squat"), "medium")
    assert moving.reps == () and len(moving.mismatches) == 1
    start_ms, end_ms = moving.mismatches[0]
    assert end_ms - start_ms >= 6000
    assert still.mismatches == ()


def test_squats_with_pauses_are_no_mismatch() -> None:
    frames = [standing(175)] * 30
    for _ in range(4):
        frames += [standing(175 - 95 * float(np.sin(np.pi * t) ** 2)) for t in np.linspace(0, 1, 60)]
        frames += [standing(175)] * 45
    analysis = analyze_exercise(series(frames), get_exercise("squat"), "medium")
    assert len(analysis.reps) == 4 and analysis.mismatches == ()


def _rep(peak_progress: float) -> Candidate:
    return Candidate(start=0, peak=1, end=2, peak_progress=peak_progress, completed=True)


def test_a_rep_seen_from_another_view_is_held_to_the_depth_of_reps_seen_that_way() -> None:
    """A camera circling a pull-up: three reps from behind (shoulders wide) read deeper than two from the side;
    the side reps pass the catalogue's target but not the clip's bar, and still count."""
    peaks = [2.4, 2.4, 2.4, 1.4, 1.4]
    widths = [0.5, 0.52, 0.48, 0.3, 0.22]
    bars = depth_bars([_rep(p) for p in peaks], ["counted"] * 5, widths)
    clip_bar = RELATIVE_DEPTH * 2.4
    assert bars[:3] == [clip_bar] * 3
    assert bars[3:] == [RELATIVE_DEPTH * 1.4] * 2


def test_a_half_rep_seen_like_the_full_ones_stays_shallow() -> None:
    peaks = [2.4, 1.2, 2.4, 2.4]
    widths = [0.5, 0.5 + SAME_VIEW_WIDTH / 2, 0.5, float("nan")]
    bars = depth_bars([_rep(p) for p in peaks], ["counted"] * 4, widths)
    assert bars[1] > peaks[1]  # same view: judged against the full reps
    assert bars[3] == bars[0]  # shoulders unseen: the clip's bar


def test_a_far_leg_drive_is_held_to_the_far_legs_depth_and_a_near_leg_half_drive_to_the_near_legs() -> None:
    """High knees in profile: the near leg (limb 0) reads 1.8, the far leg (limb 1) about 1.3. A far-leg drive
    under the clip's bar counts among its own leg's drives; a half drive of the near leg stays shallow; the near
    leg is held to the clip's bar, never to more."""
    peaks = [1.8, 1.3, 1.8, 1.3, 1.8, 1.2, 1.8, 1.0, 1.8]
    limbs = [0, 1, 0, 1, 0, 1, 0, 0, 0]
    bars = depth_bars([_rep(p) for p in peaks], ["counted"] * 9, [0.1] * 9, limbs=limbs)
    clip_bar = RELATIVE_DEPTH * 1.8
    assert peaks[5] < clip_bar and bars[5] == RELATIVE_DEPTH * 1.3 < peaks[5]
    assert bars[7] == clip_bar > peaks[7]
    assert bars[0] == clip_bar


def test_letting_go_of_the_bar_ends_the_last_pull_up_where_the_hands_left() -> None:
    """The last rep comes half-way down and the person drops: the hands falling from the bar bend the elbows again
    and end by the hips, which reads as a pull-up held at the top to the end of the clip. Off the bar no rep goes
    on: the last rep is judged where the hands left, half-way down, and counts; the drop is no rep."""
    frames = [pull_up(0.0)] * 30
    for _ in range(3):
        frames += [pull_up(float(np.sin(np.pi * t) ** 2)) for t in np.linspace(0, 1, 60)]
    frames += [pull_up(float(np.sin(np.pi * t) ** 2)) for t in np.linspace(0, 0.8, 48)]  # up, and half-way down
    frames += [pull_up(0.8)] * 6 + [front()] * 30  # hands falling, then standing below the bar, arms down
    analysis = analyze_exercise(series(frames), get_exercise("pull_up"), "medium")
    assert len(analysis.reps) == 4
