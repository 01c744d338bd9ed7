"""Signal clean-up and per-rep scoring functions."""

from __future__ import annotations

import numpy as np
import pytest
from uptrack.exercises.catalogue import Tempo, get_exercise
from uptrack.exercises.filters import bridge_gaps, clean, frames_for, running_median
from uptrack.exercises.grading import (
    DEPTH_AT_TARGET,
    depth_score,
    failed_criterion,
    fired_cues,
    linear_score,
    tempo_score,
)

TIMES = np.arange(20) / 10.0


def test_short_gaps_are_bridged_long_ones_kept() -> None:
    values = np.arange(20, dtype=np.float64)
    values[3:5] = np.nan
    values[8:16] = np.nan
    bridged = bridge_gaps(values, TIMES, max_gap_s=0.5)
    assert bridged[3:5].tolist() == [3.0, 4.0]
    assert np.isnan(bridged[8:16]).all()


def test_gaps_are_bridged_only_next_to_a_value_above_the_floor() -> None:
    values = np.array([0.0, 1.0, np.nan, np.nan, 1.2, 0.0, np.nan, 0.1, 0.9, np.nan, 0.0])
    times = np.arange(11) / 10.0
    bridged = bridge_gaps(values, times, max_gap_s=1.0, above=0.5)
    assert bridged[2:4].tolist() == pytest.approx([1.0667, 1.1333], abs=1e-3)
    assert np.isnan(bridged[6])
    assert bridged[9] == pytest.approx(0.45)


def test_running_median_removes_a_one_frame_swap_and_keeps_missing_frames_missing() -> None:
    values = np.full(9, 10.0)
    values[4] = 90.0
    values[8] = np.nan
    filtered = running_median(values, 3)
    assert filtered[4] == 10.0 and np.isnan(filtered[8])


def test_running_median_ends_a_run_of_data_as_it_ends_the_clip() -> None:
    """The last frames before the data breaks off (a figure fading out) are filtered like a clip's last frames."""
    coming_back = np.array([0.2, 1.0, 1.0, 1.0, 0.6, 0.3])
    at_the_end = running_median(coming_back, 5)
    before_a_break = running_median(np.concatenate([coming_back, np.full(4, np.nan)]), 5)
    assert at_the_end[-1] == pytest.approx(0.3)
    assert np.array_equal(before_a_break[:6], at_the_end) and np.isnan(before_a_break[6:]).all()


def test_window_is_odd_and_follows_the_frame_rate() -> None:
    assert frames_for(0.2, np.arange(100) / 30.0) == 7
    assert frames_for(0.2, np.arange(100) / 10.0) == 3
    assert frames_for(0.2, np.array([0.0])) == 1
    assert clean(np.array([]), np.array([])).size == 0


@pytest.mark.parametrize(("value", "expected"), [(10, 100), (40, 0), (25, 50), (0, 100), (99, 0)])
def test_linear_score_is_clamped_either_direction(value: float, expected: float) -> None:
    assert linear_score(value, good=10, bad=40) == expected
    assert linear_score(-value, good=-10, bad=-40) == expected


def test_depth_score_bands() -> None:
    assert depth_score(1.0, 1.5) == DEPTH_AT_TARGET
    assert depth_score(1.5, 1.5) == depth_score(3.0, 1.5) == 100
    assert depth_score(0.5, 1.5) < DEPTH_AT_TARGET / 2 + 1e-9
    assert depth_score(-1.0, 1.5) == 0


def test_tempo_score() -> None:
    tempo = Tempo(counted=(0.5, 10.0), ideal=(1.0, 4.0))
    assert tempo_score(2.0, tempo) == 100
    assert tempo_score(0.5, tempo) == tempo_score(10.0, tempo) == 40
    assert 40 < tempo_score(0.75, tempo) < 100


def test_cues_fire_below_their_bar_in_catalogue_order() -> None:
    squat = get_exercise("squat")
    assert fired_cues(squat, {"depth": 100, "tempo": 100, "stability": 100}) == ()
    cues = fired_cues(squat, {"depth": 60, "tempo": 50, "stability": 100})
    assert cues[0].startswith("Go lower") and len(cues) == 2


def test_the_failed_criterion_is_the_lowest_below_its_bar() -> None:
    squat = get_exercise("squat")  # bars: depth 85, stability 70 and tempo 70 (their cues), symmetry 70 (no cue)
    assert failed_criterion(squat, {"depth": 90, "tempo": 75, "stability": 71, "symmetry": 70}) is None
    assert failed_criterion(squat, {"depth": 80, "tempo": 100, "stability": 75}) == "depth"
    assert failed_criterion(squat, {"depth": 80, "tempo": 100, "stability": 40, "symmetry": 60}) == "stability"
    assert failed_criterion(squat, {"depth": 100, "symmetry": 69.9}) == "symmetry"
