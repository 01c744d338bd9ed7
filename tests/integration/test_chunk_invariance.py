"""Counts that do not depend on where chunks start: every chunk plan and worker count gives the same final count and
the same grades, because every plan gives the same pose series, bit for bit.

Every shared clip with a true count goes through the product's chunk code (`plan_chunks`, `infer_chunk_run`, the
aggregator's `video_messages`) at chunk sizes 30, 45, 60, 90, 120 and 300, and as chunks that ignore the tracking
segments (what another planner could send). To keep this within a CI budget on two cores, each clip's analysed
frames are decoded once (its first `MAX_FRAMES`) and handed out per chunk as the decoder would (seeking is checked
on real files by `test_pose_engine`), and the real model's results are remembered under the exact frames the
tracker saw since its last restart, so a repeat returns what the model would return. The worker counts 1, 2 and 4
run the real process pool, decoder and model on a short clip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from uptrack.chunks import ChunkResult, ChunkSpec, infer_chunk_run, plan_chunks, track_chunks
from uptrack.contract.messages import BaseMessage, CounterMessage, ExerciseSummaryMessage
from uptrack.media import Frame, iter_frames, probe_video
from uptrack.pipeline import model_for, request_stride, video_messages
from uptrack.pose.engine import EngineSettings, PoseEstimator, create_estimator
from uptrack.pose.geometry import Image
from uptrack.pose.series import PoseSeries
from uptrack_service.tools.accuracy import catalogue_ids, manifest_clips, request_for

from tests.support.paths import MEDIA, SAMPLE_VIDEO

CHUNK_SIZES = (30, 45, 60, 90, 120, 300)
WORKERS = (1, 2, 4)
MAX_FRAMES = 400
"""Frames of each clip analysed here: several tracking segments and chunk boundaries at every chunk size."""

CLIPS = (
    [(clip.path, ids[0]) for clip in manifest_clips(MEDIA) if (ids := catalogue_ids(clip.exercise))]
    if (MEDIA / "MANIFEST.csv").is_file()
    else []
)


class RememberingEstimator:
    """The real estimator; each result is kept under the digest of the frames seen since the last `reset`.

    A tracker's output is a function of exactly those frames, so a remembered result is the model's own. After a
    hit the wrapped tracker is behind; before the next miss it is replayed over the frames since the reset.
    """

    def __init__(self, inner: PoseEstimator) -> None:
        self.inner = inner
        self.name, self.names, self.timer = inner.name, inner.names, inner.timer
        self.results: dict[bytes, tuple[npt.NDArray[np.float32], float]] = {}
        self.frame_digests: dict[int, tuple[Image, bytes]] = {}
        self.seen: list[Image] = []
        self.digest = b""
        self.behind = False
        self.misses = 0

    def reset(self) -> None:
        self.inner.reset()
        self.seen, self.digest, self.behind = [], b"", False

    def track(self, image: Image) -> tuple[npt.NDArray[np.float32], float]:
        self.digest = hashlib.blake2b(self.digest + self._frame_digest(image)).digest()
        if self.digest not in self.results:
            if self.behind:
                self.inner.reset()
                for earlier in self.seen:
                    self.inner.track(earlier)
            self.results[self.digest] = self.inner.track(image)
            self.misses += 1
            self.behind = False
        else:
            self.behind = True
        self.seen.append(image)
        return self.results[self.digest]

    def _frame_digest(self, image: Image) -> bytes:
        """Each decoded frame is hashed once (the frames are served from memory, so the same array comes back)."""
        known = self.frame_digests.get(id(image))
        if known is None or known[0] is not image:
            known = (image, hashlib.blake2b(image.tobytes()).digest())
            self.frame_digests[id(image)] = known
        return known[1]

    def estimate_image(self, image: Image) -> tuple[npt.NDArray[np.float32], float]:
        return self.inner.estimate_image(image)


def decoded_once(path: Path, stride: int) -> object:
    """A stand-in for `iter_frames` that serves frames decoded once, exactly as a seek to `start` would (camera cut
    flags included: that they do not depend on `start` is checked on real decoding by `test_camera_cuts`)."""
    frames = list(iter_frames(path, 0, MAX_FRAMES, stride=stride, detect_cuts=True))

    def serve(
        _: object, start: int = 0, stop: int | None = None, stride: int = 1, detect_cuts: bool = False
    ) -> Iterator[Frame]:
        last = MAX_FRAMES if stop is None else stop
        return iter([frame for frame in frames if start <= frame.index < last and (frame.index - start) % stride == 0])

    return serve


def unaligned_plan(frame_count: int, size: int) -> list[ChunkSpec]:
    """Chunks of `size` frames from frame 0, wherever the tracking segments start."""
    starts = range(0, frame_count, size)
    return [ChunkSpec(i, start, min(start + size, frame_count)) for i, start in enumerate(starts)]


def final_result(messages: list[BaseMessage]) -> tuple[int, list[str | None]]:
    """The final counter and every counted rep's grade."""
    final = [m for m in messages if isinstance(m, CounterMessage) and m.final]
    summary = [m for m in messages if isinstance(m, ExerciseSummaryMessage)]
    return final[-1].current_count, [rep.grade for rep in summary[-1].history]


@pytest.mark.parametrize(("path", "exercise"), CLIPS, ids=[path.stem for path, _ in CLIPS])
def test_every_chunk_plan_gives_the_same_series_count_and_grades(
    path: Path, exercise: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = request_for(exercise)
    info = probe_video(path)
    stride = request_stride(request, info.fps)
    frame_count = min(info.frame_count, MAX_FRAMES)
    monkeypatch.setattr("uptrack.chunks.iter_frames", decoded_once(path, stride))
    estimator = RememberingEstimator(create_estimator(EngineSettings(model=model_for(request))))

    def series_for(chunks: list[ChunkSpec]) -> PoseSeries:
        return PoseSeries.concat(list(infer_chunk_run(path, chunks, estimator, info, stride)))

    whole = series_for([ChunkSpec(0, 0, frame_count)])
    expected = final_result(video_messages(whole, request))
    plans = [plan_chunks(frame_count, size) for size in CHUNK_SIZES]
    plans += [unaligned_plan(frame_count, size) for size in CHUNK_SIZES]
    for chunks in plans:
        series = series_for(chunks)
        where = [(c.start, c.stop) for c in chunks]
        assert np.array_equal(series.frame_index, whole.frame_index), where
        assert np.array_equal(series.keypoints, whole.keypoints, equal_nan=True), where
        assert final_result(video_messages(series, request)) == expected, where


@pytest.mark.parametrize("chunk_frames", [30, 90])
def test_one_two_and_four_workers_give_the_same_series(chunk_frames: int) -> None:
    """The real pool: decoder, model and chunk runs in worker processes, joined by frame."""
    info = probe_video(SAMPLE_VIDEO)
    engine = EngineSettings()
    chunks = plan_chunks(info.frame_count, chunk_frames)

    def joined(workers: int) -> PoseSeries:
        parts = track_chunks(SAMPLE_VIDEO, chunks, engine, info, 3, workers)
        return PoseSeries.concat([part.series for part in parts if isinstance(part, ChunkResult)])

    alone = joined(1)
    assert len(chunks) > 2 and len(alone) > 0
    for workers in WORKERS[1:]:
        pooled = joined(workers)
        assert np.array_equal(pooled.frame_index, alone.frame_index)
        assert np.array_equal(pooled.keypoints, alone.keypoints, equal_nan=True)
