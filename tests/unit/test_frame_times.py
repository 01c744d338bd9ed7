"""Frame times of videos whose container lies about its frame rate, and of variable-frame-rate video: they
increase, span the clip and are the same whether a video is decoded whole or chunk by chunk (as the Lambdas do)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from uptrack.media import iter_frames, probe_video

from tests.support.corpus import Media


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("hardening"))


def _stamps(path: Path, start: int = 0, stop: int | None = None) -> dict[int, float]:
    return {frame.index: frame.timestamp_ms for frame in iter_frames(path, start, stop)}


def _chunked(path: Path, frames: int, size: int = 60, warmup: int = 6) -> dict[int, float]:
    stamps: dict[int, float] = {}
    for start in range(0, frames, size):
        stamps |= {i: t for i, t in _stamps(path, max(0, start - warmup), start + size).items() if i >= start}
    return stamps


@pytest.mark.parametrize("case", ["fps_zero", "fps_absurd", "variable_frame_rate"])
def test_frame_times_increase_span_the_clip_and_do_not_depend_on_chunking(media: Media, case: str) -> None:
    path: Path = getattr(media, case)()
    info = probe_video(path)
    whole = _stamps(path)
    times = np.array([whole[i] for i in sorted(whole)])
    assert len(whole) == info.frame_count
    assert np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx(7066, abs=40)  # the sample lasts 7.1 s whatever the container says
    assert _chunked(path, info.frame_count) == whole


def test_a_container_claiming_15360_fps_is_timed_at_the_default_rate(media: Media) -> None:
    path = media.fps_absurd()
    times = list(_stamps(path, 0, 10).values())
    assert times == pytest.approx([i * 1000 / 30 for i in range(10)])


def test_a_file_without_an_index_is_decoded_chunk_by_chunk_as_a_whole(media: Media) -> None:
    """Matroska from a pipe cannot seek; a chunk must still get its own frames, not the clip's first ones again."""
    clip = media.mkv_no_length()
    whole = {frame.index: frame.image for frame in iter_frames(clip)}
    for start, stop in ((60, 120), (150, 213)):
        chunk = {frame.index: frame.image for frame in iter_frames(clip, start, stop)}
        assert sorted(chunk) == list(range(start, min(stop, len(whole))))
        assert all(np.array_equal(chunk[i], whole[i]) for i in chunk)
