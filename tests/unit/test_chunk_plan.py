"""Chunk plans: whole tracking segments, never over the asked size, every frame exactly once."""

from __future__ import annotations

import itertools

import pytest
from uptrack.chunks import SEGMENT_FRAMES, plan_chunks


@pytest.mark.parametrize("frame_count", [1, 29, 59, 60, 61, 95, 200, 870, 1290, 10_000])
@pytest.mark.parametrize("chunk_frames", [8, 15, 30, 45, 60, 90, 120, 300])
def test_chunks_cover_the_video_in_whole_segments_within_the_size(frame_count: int, chunk_frames: int) -> None:
    chunks = plan_chunks(frame_count, chunk_frames)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0 and chunks[-1].stop == frame_count
    assert all(a.stop == b.start for a, b in itertools.pairwise(chunks))
    assert all(0 < c.stop - c.start <= chunk_frames for c in chunks)
    if chunk_frames >= SEGMENT_FRAMES:
        assert all(c.start % SEGMENT_FRAMES == 0 for c in chunks)
    sizes = [c.stop - c.start for c in chunks[:-1]]
    assert not sizes or max(sizes) - min(sizes) <= max(SEGMENT_FRAMES, 1)


def test_an_empty_video_has_no_chunks() -> None:
    assert plan_chunks(0) == []
