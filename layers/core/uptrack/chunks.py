"""Frame chunks: how a video is split for parallel inference, and how one worker tracks its chunks.

Kept apart from `uptrack.pipeline` so that an inference worker (a local process or a Lambda) imports only the
media and pose modules: a local worker starts in half the time.
"""

from __future__ import annotations

import math
import multiprocessing
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from queue import Empty

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import Frame, VideoInfo, VideoSource, iter_frames
from uptrack.pose.engine import EngineSettings, PoseEstimator, create_estimator, track_frames
from uptrack.pose.series import PoseSeries

#: Frames per inference chunk (3 s at 30 fps, ~1 s of work at one vCPU): the cost model's pick
#: (`python -m uptrack_service.tools.cost_model`), shared by the template, the CLI and the local stack.
DEFAULT_CHUNK_FRAMES = 90
#: Analysed frames tracked before a chunk's first frame so the tracker has locked on when results start.
WARMUP_FRAMES = 3


@dataclass(frozen=True)
class ChunkSpec:
    """Frames [start, stop) of one video, analysed by one worker."""

    index: int
    start: int
    stop: int


def plan_chunks(frame_count: int, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> list[ChunkSpec]:
    """Split a video into near-equal chunks of at most `chunk_frames` frames (the last is never tiny)."""
    if frame_count <= 0:
        return []
    count = math.ceil(frame_count / max(1, chunk_frames))
    bounds = [round(i * frame_count / count) for i in range(count + 1)]
    return [ChunkSpec(i, bounds[i], bounds[i + 1]) for i in range(count)]


def analysis_stride(fps: float, target_fps: float) -> int:
    """Analyse every n-th frame so that about `target_fps` samples a second remain (29.97 fps counts as 30)."""
    return max(1, int(fps * 1.01 / target_fps))


def infer_chunk(
    path: VideoSource, chunk: ChunkSpec, estimator: PoseEstimator, info: VideoInfo, stride: int
) -> PoseSeries:
    """Decode and track one chunk; chunks are independent, each warming its tracker up on a few earlier frames.

    Analysed frames are the multiples of `stride`, whatever the chunk boundaries, so a video gives the same
    series however it is split (CLI, local stack and Lambdas alike).
    """
    return next(infer_chunk_run(path, [chunk], estimator, info, stride))


def infer_chunk_run(
    path: VideoSource, chunks: Sequence[ChunkSpec], estimator: PoseEstimator, info: VideoInfo, stride: int
) -> Iterator[PoseSeries]:
    """Consecutive chunks decoded in one pass, each tracked exactly as `infer_chunk` tracks it alone.

    A seek costs up to a GOP of decoding (0.1–0.2 s a chunk on the shared clips); a worker that owns a run of
    chunks seeks once. The tracker still restarts at every chunk, on the same warm-up frames, so the series equals
    the cloud's chunk by chunk.
    """
    first = max(0, _aligned(chunks[0].start, stride) - WARMUP_FRAMES * stride)
    run = _FrameRun(iter_frames(path, first, chunks[-1].stop, stride=stride))
    for chunk in chunks:
        start = _aligned(chunk.start, stride)
        frames = run.until(chunk.stop, warmup_from=start - WARMUP_FRAMES * stride)
        yield track_frames(estimator, frames, info.width, info.height, info.fps).since_frame(start)


def _aligned(frame: int, stride: int) -> int:
    """The first analysed frame at or after `frame`."""
    return -(-frame // stride) * stride


class _FrameRun:
    """One pass over decoded frames, handed out chunk by chunk with the last few frames kept for warm-ups."""

    def __init__(self, frames: Iterator[Frame]) -> None:
        self._frames = frames
        self._next = next(frames, None)
        self._recent: deque[Frame] = deque(maxlen=WARMUP_FRAMES)

    def until(self, stop: int, warmup_from: int) -> Iterator[Frame]:
        yield from [frame for frame in self._recent if frame.index >= warmup_from]
        while self._next is not None and self._next.index < stop:
            frame, self._next = self._next, next(self._frames, None)
            self._recent.append(frame)
            yield frame


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
