"""The Schmitt state machine on constructed progress signals: every edge case a real clip produces."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st
from uptrack.exercises.counting import Thresholds, find_candidates

Floats = npt.NDArray[np.float64]


def reps(*peaks: float, rest_frames: int = 10, rep_frames: int = 30) -> Floats:
    """Rest, then a half-sine excursion to each peak with rest in between (progress units)."""
    parts = [np.zeros(rest_frames)]
    for peak in peaks:
        parts.append(peak * np.sin(np.linspace(0, np.pi, rep_frames)))
        parts.append(np.zeros(rest_frames))
    return np.concatenate(parts)


def ready(progress: Floats) -> npt.NDArray[np.bool_]:
    return np.ones(len(progress), dtype=bool)


def counted(progress: Floats, gate: npt.NDArray[np.bool_] | None = None) -> int:
    gate = ready(progress) if gate is None else gate
    return sum(c.completed and c.peak_progress >= 1.0 for c in find_candidates(progress, gate))


def test_full_reps_each_give_one_completed_candidate() -> None:
    candidates = find_candidates(reps(1.4, 1.5, 1.3), ready(reps(1.4, 1.5, 1.3)))
    assert [round(c.peak_progress, 1) for c in candidates] == [1.4, 1.5, 1.3]
    assert all(c.completed for c in candidates)
    assert all(c.start < c.peak < c.end for c in candidates)


def test_shallow_rep_is_a_candidate_that_does_not_reach_the_target() -> None:
    candidates = find_candidates(reps(1.4, 0.7, 1.4), ready(reps(1.4, 0.7, 1.4)))
    assert [c.peak_progress >= 1.0 for c in candidates] == [True, False, True]


def test_movement_below_the_enter_threshold_is_not_an_attempt() -> None:
    assert find_candidates(reps(0.45, 0.3), ready(reps(0.45, 0.3))) == []


def test_jitter_around_the_thresholds_does_not_split_a_rep() -> None:
    rng = np.random.default_rng(0)
    progress = reps(1.5, 1.5) + rng.uniform(-0.08, 0.08, len(reps(1.5, 1.5)))
    assert counted(progress) == 2


def test_pause_at_the_bottom_and_at_the_top_still_one_rep_each() -> None:
    down = np.linspace(0, 1.3, 15)
    hold = np.full(60, 1.3)
    up = np.linspace(1.3, 0, 15)
    progress = np.concatenate([np.zeros(30), down, hold, up, np.zeros(90), down, up, np.zeros(5)])
    assert counted(progress) == 2


def test_rep_cut_off_before_coming_back_is_not_completed() -> None:
    progress = np.concatenate([np.zeros(10), np.linspace(0, 1.4, 20)])
    (candidate,) = find_candidates(progress, ready(progress))
    assert not candidate.completed


def test_rep_cut_off_on_its_way_back_is_completed() -> None:
    progress = np.concatenate([np.zeros(10), np.linspace(0, 1.4, 20), np.linspace(1.4, 0.45, 10)])
    (candidate,) = find_candidates(progress, ready(progress))
    assert candidate.completed


def test_clip_opening_mid_rep_counts_only_when_most_of_it_was_seen() -> None:
    early = np.concatenate([np.linspace(0.4, 1.4, 15), np.linspace(1.4, 0, 15), np.zeros(5)])
    late = np.concatenate([np.full(3, 1.3), np.linspace(1.3, 0, 15), np.zeros(5)])
    assert counted(early) == 1
    assert counted(late) == 0


def test_a_long_gap_breaks_a_rep_and_waits_for_rest_again() -> None:
    progress = reps(1.5, 1.5)
    progress[25:28] = np.nan  # person hidden around the first bottom, before coming back halfway
    candidates = find_candidates(progress, ready(progress))
    assert [c.completed for c in candidates] == [False, True]


def test_not_ready_at_rest_means_no_rep_starts() -> None:
    progress = reps(1.5, 1.5, 1.5)
    gate = ready(progress)
    gate[: len(progress) // 2] = False  # walking in / setting up: not in position yet
    assert counted(progress, gate) == 1


def test_no_data_gives_no_candidates() -> None:
    assert find_candidates(np.array([]), np.array([], dtype=bool)) == []
    assert find_candidates(np.full(20, np.nan), np.ones(20, dtype=bool)) == []


def test_a_stricter_rest_band_needs_a_fuller_return() -> None:
    progress = np.concatenate([np.zeros(5), np.linspace(0, 1.2, 10), np.linspace(1.2, 0.25, 10), np.full(10, 0.25)])
    (default,) = find_candidates(progress, ready(progress))
    (strict,) = find_candidates(progress, ready(progress), Thresholds(rest=0.2))
    assert default.end == 24  # back below 0.3: the rep ends there
    assert strict.end == len(progress) - 1  # never below 0.2: still open when the data ends


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=1.05, max_value=2.0), min_size=0, max_size=8), st.integers(3, 40))
def test_count_equals_number_of_full_excursions(peaks: list[float], rest_frames: int) -> None:
    progress = reps(*peaks, rest_frames=rest_frames)
    assert counted(progress) == len(peaks)
