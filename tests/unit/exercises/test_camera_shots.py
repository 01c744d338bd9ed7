"""Camera cuts in the counting path: the pose series carries them, smoothing and the rep state machine restart at
them, and a rep interrupted by a cut is counted once, on the side of the cut that saw it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt
from uptrack.exercises.counting import find_candidates
from uptrack.pose.keypoints import COCO_KEYPOINTS
from uptrack.pose.series import PoseSeries
from uptrack.smoothing import smooth_series

Floats = npt.NDArray[np.float64]


def series(frames: int, cuts: tuple[int, ...] = ()) -> PoseSeries:
    """A still body at 10 fps that jumps across the frame at each cut (another camera)."""
    keypoints = np.full((frames, len(COCO_KEYPOINTS), 4), 0.9, dtype=np.float32)
    keypoints[..., :2] = np.linspace(0.3, 0.7, len(COCO_KEYPOINTS), dtype=np.float32)[None, :, None]
    cut = np.zeros(frames, dtype=bool)
    for at in cuts:
        cut[at] = True
        keypoints[at:, :, 0] += 0.2
    return PoseSeries(
        model="movenet_lightning",
        names=COCO_KEYPOINTS,
        frame_index=np.arange(frames, dtype=np.int64) * 3,
        timestamp_ms=np.arange(frames, dtype=np.float32) * 100,
        keypoints=keypoints,
        presence=np.ones(frames, dtype=np.float32),
        width=640,
        height=360,
        fps=30.0,
        cut=cut,
    )


def test_cut_flags_survive_storage_joining_and_selection() -> None:
    whole = series(20, cuts=(7, 15))
    stored = PoseSeries.from_bytes(whole.to_bytes())
    assert np.array_equal(stored.cuts, whole.cuts)
    joined = PoseSeries.concat([whole.select(whole.frame_index >= 30), whole.select(whole.frame_index < 30)])
    assert np.array_equal(joined.cuts, whole.cuts)
    assert whole.shots() == [slice(0, 7), slice(7, 15), slice(15, 20)]


def test_a_series_stored_without_cut_flags_reads_as_one_shot() -> None:
    legacy = replace(series(10), cut=None)
    assert PoseSeries.from_bytes(legacy.to_bytes()).shots() == [slice(0, 10)]


def test_smoothing_does_not_glide_across_a_cut() -> None:
    smoothed = smooth_series(series(20, cuts=(10,)))
    raw = series(20, cuts=(10,))
    assert np.allclose(smoothed.keypoints[10:, :, :2], raw.keypoints[10:, :, :2])


def rep(peak: float, frames: int = 30) -> Floats:
    return peak * np.sin(np.linspace(0, np.pi, frames))


def test_a_rep_that_turned_before_a_cut_counts_before_it() -> None:
    shot = np.concatenate([np.zeros(10), rep(1.5)[:20]])  # past its peak, on the way down, when the cut comes
    ready = np.ones(len(shot), dtype=bool)
    assert not find_candidates(shot, ready)[-1].completed  # at the end of a video: most of the way back needed
    assert find_candidates(shot, ready, cut_at_end=True)[-1].completed


def test_a_rep_still_rising_at_a_cut_counts_once_in_the_next_shot() -> None:
    before = np.concatenate([np.zeros(10), rep(1.5)[:12]])
    after = np.concatenate([rep(1.5)[14:], np.zeros(10)])
    ready_before, ready_after = np.ones(len(before), dtype=bool), np.ones(len(after), dtype=bool)
    assert not find_candidates(before, ready_before, cut_at_end=True)[-1].completed
    assert not find_candidates(after, ready_after)[0].completed  # a clip opening near the top: not seen rising
    assert find_candidates(after, ready_after, opens_rising=True)[0].completed


def test_a_shot_that_opens_and_ends_mid_rep_counts_nothing() -> None:
    """Someone seated through a whole shot reads as a squat held at depth: no start position, no rep."""
    held = np.full(40, 2.0)
    held[30:] = 1.8
    assert not find_candidates(held, np.ones(40, dtype=bool), cut_at_end=True)[0].completed


def test_a_rep_at_its_peak_when_the_cut_comes_counts_once_when_the_next_shot_opens_lower() -> None:
    """A jump cut at the top of a jumping jack: the turn falls on the cut."""
    before = np.concatenate([np.zeros(10), rep(1.5)[:15]])
    ready = np.ones(len(before), dtype=bool)
    assert not find_candidates(before, ready, cut_at_end=True)[-1].completed
    assert find_candidates(before, ready, cut_at_end=True, lower_after_cut=True)[-1].completed
    after = np.concatenate([rep(1.5)[24:], np.zeros(10)])  # opens on the way down: not counted again
    assert not find_candidates(after, np.ones(len(after), dtype=bool))[0].completed
