"""Frame chunks: how a video is split for parallel inference, and how one worker tracks its chunks.

Kept apart from `uptrack.pipeline` so that an inference worker (a local process or a Lambda) imports only the
media and pose modules: a local worker starts in half the time.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from itertools import groupby
from multiprocessing.queues import Queue
from pathlib import Path

import numpy as np

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import DEFAULT_FPS, Frame, VideoInfo, VideoSource, iter_frames
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
    path: VideoSource,
    chunks: Sequence[ChunkSpec],
    estimator: PoseEstimator,
    info: VideoInfo,
    stride: int,
    on_frame: Callable[[int], None] | None = None,
) -> Iterator[PoseSeries]:
    """Consecutive chunks decoded in one pass, each equal to `infer_chunk` on it alone.

    A seek costs up to a GOP of decoding (0.1–0.2 s a chunk on the shared clips); a worker that owns a run of
    chunks seeks once. Decoding starts at the segment holding the first chunk's start, and a segment that spans two
    chunks is tracked once and split. `on_frame` hears each analysed frame's index as it is decoded; frames are
    decoded one at a time as the tracker asks for them, so that is also the pace of the tracking.
    """
    first = _segment_anchor(_aligned(chunks[0].start, stride), stride)
    frames = iter_frames(path, first, chunks[-1].stop, stride=stride, detect_cuts=True)
    if on_frame is not None:
        frames = _announced(frames, on_frame)
    segments = (
        _track_segment(estimator, block, info) for _, block in groupby(frames, lambda f: f.index // SEGMENT_FRAMES)
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


def _announced(frames: Iterator[Frame], on_frame: Callable[[int], None]) -> Iterator[Frame]:
    for frame in frames:
        on_frame(frame.index)
        yield frame


def _track_segment(estimator: PoseEstimator, frames: Iterator[Frame], info: VideoInfo) -> PoseSeries:
    """Track one segment, starting afresh at its first frame and at every camera cut in it (the crop of the last
    shot says nothing about where the person is in the next). Frames are read shot by shot as they are tracked,
    so decoding progress follows the tracking."""
    return PoseSeries.concat([_track_shot(estimator, shot, info) for shot in _shots(frames)])


def _shots(frames: Iterator[Frame]) -> Iterator[list[Frame]]:
    """The frames split at camera cuts (a cut on the first frame starts no empty shot)."""
    shot: list[Frame] = []
    for frame in frames:
        if frame.cut and shot:
            yield shot
            shot = []
        shot.append(frame)
    if shot:
        yield shot


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


class SecondSteps:
    """Lets a growing frame count through once per whole second of video it reaches, and once more when it reaches
    `total`: progress as often as a person can follow it, and never more than one report a second of video whatever
    the frame rate, the stride or the number of workers. A count lower than one already let through is held back,
    so what passes only grows."""

    def __init__(self, frames_per_second: int, total: int) -> None:
        self._step = max(1, frames_per_second)
        self._total = total
        self._passed = 0

    def passes(self, frames: int) -> bool:
        frames = min(frames, self._total)
        if frames <= self._passed:
            return False
        if frames < self._total and frames // self._step == self._passed // self._step:
            return False
        self._passed = frames
        return True


def frames_per_second(info: VideoInfo) -> int:
    """Whole frames in one second of `info`'s video (the default rate when its header gives none)."""
    return round(info.fps) if info.fps > 0 else round(DEFAULT_FPS)


@dataclass(frozen=True)
class ChunkResult:
    """One chunk's poses."""

    index: int
    series: PoseSeries


@dataclass(frozen=True)
class FramesDone:
    """Source frames of the video decoded and tracked so far, every worker together."""

    frames: int


@dataclass(frozen=True)
class _RunProgress:
    """One run of chunks has decoded its first `frames` source frames."""

    run: int
    frames: int


_RunEvent = ChunkResult | _RunProgress
_Report = Callable[[_RunEvent], None]


def track_chunks(
    path: Path, chunks: list[ChunkSpec], engine: EngineSettings, info: VideoInfo, stride: int, workers: int
) -> Iterator[ChunkResult | FramesDone]:
    """Chunk results as they complete, with `FramesDone` whenever the frames decoded so far grew: in a thread of
    this process, or in a pool of worker processes (one model each).

    Each worker owns one run of consecutive chunks (one seek, the work split evenly). It reports every chunk as it
    finishes and, between them, how far it has decoded at most once per second of video (`SecondSteps`): a handful
    of small queue messages next to the inference. One worker runs in a thread so that its reports reach the
    caller while it tracks.
    """
    if not chunks:
        return
    runs = _contiguous_groups(chunks, max(1, workers))
    if len(runs) == 1:
        yield from _tracked_in_thread(path, chunks, create_estimator(engine), info, stride)
        return
    context = multiprocessing.get_context("forkserver")
    events: Queue[_RunEvent] = context.Queue()
    with ProcessPoolExecutor(
        len(runs), mp_context=context, initializer=_load_worker, initargs=(engine, events)
    ) as pool:
        futures = [pool.submit(_worker_run, path, number, run, info, stride) for number, run in enumerate(runs)]
        yield from _gathered(events, futures, runs)


def _tracked_in_thread(
    path: Path, chunks: list[ChunkSpec], estimator: PoseEstimator, info: VideoInfo, stride: int
) -> Iterator[ChunkResult | FramesDone]:
    """`track_chunks` for one run. When the caller stops listening (an interrupt, a closed stream) the thread
    stops at its next report instead of finishing the video unheard."""
    events: queue.Queue[_RunEvent] = queue.Queue()
    stopped = threading.Event()

    def report(event: _RunEvent) -> None:
        if stopped.is_set():
            raise _AbandonedError
        events.put(event)

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(_track_run, path, 0, chunks, estimator, info, stride, report)
        try:
            yield from _gathered(events, [future], [chunks])
        finally:
            stopped.set()


class _AbandonedError(Exception):
    """Nobody listens to the run any more."""


def _gathered(
    events: Queue[_RunEvent] | queue.Queue[_RunEvent], futures: list[Future[None]], runs: list[list[ChunkSpec]]
) -> Iterator[ChunkResult | FramesDone]:
    """Every run's chunk results, and the frames done by all runs together each time that grew. A finished chunk
    also counts as progress: its run has then decoded every frame up to the chunk's end."""
    run_done_at = {chunk.index: (number, chunk.stop - run[0].start) for number, run in enumerate(runs) for chunk in run}
    reached = [0] * len(runs)
    pending = len(run_done_at)
    while pending:
        event = _next_event(events, futures)
        if isinstance(event, ChunkResult):
            pending -= 1
            yield event
            number, frames = run_done_at[event.index]
        else:
            number, frames = event.run, event.frames
        if frames > reached[number]:
            reached[number] = frames
            yield FramesDone(sum(reached))


def _next_event(events: Queue[_RunEvent] | queue.Queue[_RunEvent], runs: list[Future[None]]) -> _RunEvent:
    """The next report of any worker; a worker that failed or was killed ends the wait with its error."""
    while True:
        try:
            return events.get(timeout=0.2)
        except queue.Empty:
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


def _track_run(
    path: Path,
    number: int,
    chunks: list[ChunkSpec],
    estimator: PoseEstimator,
    info: VideoInfo,
    stride: int,
    report: _Report,
) -> None:
    """Track run `number`, reporting each finished chunk and, once per second of video, how far decoding got."""
    start, stop = chunks[0].start, chunks[-1].stop
    steps = SecondSteps(frames_per_second(info), stop - start)

    def decoded(index: int) -> None:
        frames = min(index + 1, stop) - start
        if steps.passes(frames):
            report(_RunProgress(number, frames))

    tracked = infer_chunk_run(path, chunks, estimator, info, stride, on_frame=decoded)
    for chunk, series in zip(chunks, tracked, strict=True):
        report(ChunkResult(chunk.index, series))


_worker_estimator: PoseEstimator | None = None
_worker_events: Queue[_RunEvent] | None = None


def _load_worker(engine: EngineSettings, events: Queue[_RunEvent]) -> None:
    global _worker_estimator, _worker_events
    _worker_estimator = create_estimator(engine)
    _worker_events = events


def _worker_run(path: Path, number: int, chunks: list[ChunkSpec], info: VideoInfo, stride: int) -> None:
    assert _worker_estimator is not None and _worker_events is not None, "worker started without its model"
    _track_run(path, number, chunks, _worker_estimator, info, stride, _worker_events.put)
