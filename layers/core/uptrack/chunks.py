"""Frame chunks: how a video is split for parallel inference, and how one worker tracks its chunks.

Kept apart from `uptrack.pipeline` so that an inference worker (a local process or a Lambda) imports only the
media and pose modules: a local worker starts in half the time.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import groupby, pairwise
from multiprocessing.queues import Queue
from pathlib import Path
from queue import Empty

import numpy as np

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import Frame, VideoInfo, VideoSource, iter_frames
from uptrack.pose.engine import EngineSettings, PoseEstimator, create_estimator, track_frames
from uptrack.pose.series import PoseSeries

#: Frames per inference chunk (4 s at 30 fps: two tracking segments), shared by the template, the CLI and the local
#: stack. Chunks come in whole segments, so the cost model (`python -m uptrack_service.tools.cost_model`) weighs
#: only multiples of `SEGMENT_FRAMES`; a 90-frame setting would run as 60-frame chunks.
DEFAULT_CHUNK_FRAMES = 120
#: The tracker restarts at the first analysed frame of every block of this many frames (2 s at 30 fps), counted
#: from the start of the video, never from a chunk's start: each frame's pose then depends only on the frames of
#: its own block, so every chunk plan, worker count and cloud fan-out gives the same series bit for bit (and so the
#: same reps). The restart also bounds how long the crop can stay on a wrong region (a camera cut, another person).
#: Shorter blocks track measurably worse: the crop needs a few frames to settle after each restart.
SEGMENT_FRAMES = 60
#: Passes on a block's first frame before its pose is kept: the first from the whole frame, the next from the crop
#: the previous pass found (MoveNet's own cropping, run to rest on one frame). Two restarts of two passes cost what
#: the three warm-up frames of an unaligned 90-frame chunk cost.
SEED_PASSES = 2


@dataclass(frozen=True)
class ChunkSpec:
    """Frames [start, stop) of one video, analysed by one worker."""

    index: int
    start: int
    stop: int


def plan_chunks(frame_count: int, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> list[ChunkSpec]:
    """Split a video into near-equal chunks of at most `chunk_frames` frames, in whole tracking segments when a
    chunk holds at least one (a chunk that starts mid-segment re-tracks the segment's start: wasted work).
    Chunk sizes differ by one segment at most, except the video's last, partial segment."""
    if frame_count <= 0:
        return []
    unit = SEGMENT_FRAMES if chunk_frames >= SEGMENT_FRAMES else 1
    units = math.ceil(frame_count / unit)
    count = math.ceil(units / max(1, chunk_frames // unit))
    bounds = [min(frame_count, round(i * units / count) * unit) for i in range(count + 1)]
    return [ChunkSpec(i, bounds[i], bounds[i + 1]) for i in range(count)]


def analysis_stride(fps: float, target_fps: float) -> int:
    """Analyse every n-th frame so that about `target_fps` samples a second remain (29.97 fps counts as 30)."""
    return max(1, int(fps * 1.01 / target_fps))


def infer_chunk(
    path: VideoSource, chunk: ChunkSpec, estimator: PoseEstimator, info: VideoInfo, stride: int
) -> PoseSeries:
    """Decode and track one chunk (the frames that are multiples of `stride`); the tracker restarts at every
    `SEGMENT_FRAMES` block, so a chunk gives exactly the frames the whole video tracked in one pass would give."""
    return next(infer_chunk_run(path, [chunk], estimator, info, stride))


def infer_chunk_run(
    path: VideoSource, chunks: Sequence[ChunkSpec], estimator: PoseEstimator, info: VideoInfo, stride: int
) -> Iterator[PoseSeries]:
    """Consecutive chunks decoded in one pass, each equal to `infer_chunk` on it alone.

    A seek costs up to a GOP of decoding (0.1–0.2 s a chunk on the shared clips); a worker that owns a run of
    chunks seeks once. Decoding starts at the segment holding the first chunk's start, and a segment that spans two
    chunks is tracked once and split.
    """
    first = _segment_anchor(_aligned(chunks[0].start, stride), stride)
    frames = iter_frames(path, first, chunks[-1].stop, stride=stride, detect_cuts=True)
    segments = (
        _track_segment(estimator, list(block), info)
        for _, block in groupby(frames, lambda f: f.index // SEGMENT_FRAMES)
    )
    run = _SegmentRun(segments, track_frames(estimator, [], info.width, info.height, info.fps))
    for chunk in chunks:
        yield run.take(_aligned(chunk.start, stride), chunk.stop)


def _aligned(frame: int, stride: int) -> int:
    """The first analysed frame at or after `frame`."""
    return -(-frame // stride) * stride


def _segment_anchor(frame: int, stride: int) -> int:
    """The first analysed frame of the tracking segment that holds `frame`: where its tracking starts."""
    return _aligned(frame // SEGMENT_FRAMES * SEGMENT_FRAMES, stride)


def _track_segment(estimator: PoseEstimator, frames: list[Frame], info: VideoInfo) -> PoseSeries:
    """Track one segment, starting afresh at its first frame and at every camera cut in it (the crop of the last
    shot says nothing about where the person is in the next)."""
    starts = [0, *(i for i, frame in enumerate(frames) if frame.cut and i > 0), len(frames)]
    return PoseSeries.concat([_track_shot(estimator, frames[a:b], info) for a, b in pairwise(starts)])


def _track_shot(estimator: PoseEstimator, frames: list[Frame], info: VideoInfo) -> PoseSeries:
    """Track frames of one shot from a fresh start; `SEED_PASSES` extra passes on the first frame only place the
    crop, so the first pose comes from a settled crop like every other."""
    series = track_frames(estimator, [frames[0]] * SEED_PASSES + frames, info.width, info.height, info.fps)
    return series.select(np.arange(len(series)) >= SEED_PASSES)


class _SegmentRun:
    """Tracked segments handed out chunk by chunk; a segment that reaches past a chunk's end is kept for the next."""

    def __init__(self, segments: Iterator[PoseSeries], empty: PoseSeries) -> None:
        self._segments = segments
        self._kept: PoseSeries | None = None
        self._empty = empty

    def take(self, start: int, stop: int) -> PoseSeries:
        """The poses of analysed frames [start, stop)."""
        parts = [self._empty]
        while (segment := self._next()) is not None:
            parts.append(segment)
            if int(segment.frame_index[-1]) >= stop:
                self._kept = segment
                break
        joined = PoseSeries.concat(parts)
        return joined.select((joined.frame_index >= start) & (joined.frame_index < stop))

    def _next(self) -> PoseSeries | None:
        kept, self._kept = self._kept, None
        return kept if kept is not None else next(self._segments, None)


@dataclass(frozen=True)
class ChunkResult:
    series: PoseSeries
    source_frames: int


def track_chunks(
    path: Path, chunks: list[ChunkSpec], engine: EngineSettings, info: VideoInfo, stride: int, workers: int
) -> Iterator[ChunkResult]:
    """Chunk results as they complete: in this process, or in a pool of worker processes (one model each).

    Each worker owns one run of consecutive chunks (one seek, the work split evenly) and reports every chunk as it
    finishes, so progress stays chunk by chunk.
    """
    if workers <= 1 or len(chunks) <= 1:
        estimator = create_estimator(engine)
        for chunk, series in zip(chunks, infer_chunk_run(path, chunks, estimator, info, stride), strict=True):
            yield ChunkResult(series, chunk.stop - chunk.start)
        return
    context = multiprocessing.get_context("forkserver")
    finished: Queue[tuple[int, PoseSeries]] = context.Queue()
    sizes = {chunk.index: chunk.stop - chunk.start for chunk in chunks}
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_load_worker, initargs=(engine, finished)
    ) as pool:
        runs = [pool.submit(_worker_run, path, run, info, stride) for run in _contiguous_groups(chunks, workers)]
        for _ in chunks:
            index, series = _next_finished(finished, runs)
            yield ChunkResult(series, sizes[index])


def _next_finished(finished: Queue[tuple[int, PoseSeries]], runs: list[Future[None]]) -> tuple[int, PoseSeries]:
    """The next chunk any worker finished; a worker that failed or was killed ends the wait with its error."""
    while True:
        try:
            return finished.get(timeout=0.2)
        except Empty:
            for run in runs:
                if run.done():
                    _raise_failure(run)


def _raise_failure(run: Future[None]) -> None:
    try:
        run.result()
    except BrokenProcessPool as broken:  # a worker was killed (out of memory, say): a typed failure, no trace
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "An analysis worker stopped unexpectedly.") from broken


def _contiguous_groups(chunks: list[ChunkSpec], count: int) -> list[list[ChunkSpec]]:
    """`count` runs of consecutive chunks of near-equal length (fewer when there are fewer chunks)."""
    count = min(count, len(chunks))
    bounds = [round(i * len(chunks) / count) for i in range(count + 1)]
    return [chunks[bounds[i] : bounds[i + 1]] for i in range(count)]


_worker_estimator: PoseEstimator | None = None
_worker_finished: Queue[tuple[int, PoseSeries]] | None = None


def _load_worker(engine: EngineSettings, finished: Queue[tuple[int, PoseSeries]]) -> None:
    global _worker_estimator, _worker_finished
    _worker_estimator = create_estimator(engine)
    _worker_finished = finished


def _worker_run(path: Path, chunks: list[ChunkSpec], info: VideoInfo, stride: int) -> None:
    assert _worker_estimator is not None and _worker_finished is not None, "worker started without its model"
    for chunk, series in zip(chunks, infer_chunk_run(path, chunks, _worker_estimator, info, stride), strict=True):
        _worker_finished.put((chunk.index, series))
