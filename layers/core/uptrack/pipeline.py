"""From a media file and a request to the contract's messages: the one path every entry point shares.

The work splits the way the cloud runs it: `uptrack.chunks.plan_chunks` (validation Lambda), `infer_chunk` (one
inference Lambda per chunk, output a `PoseSeries`) at the request's `analysis_fps`, `video_messages` (the
aggregator: smoothing, exercise analysis, per-frame messages, summary). `analyze_path` chains them on one machine
for the CLI, chunks in worker processes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from uptrack.chunks import (
    DEFAULT_CHUNK_FRAMES,
    ChunkResult,
    FramesDone,
    SecondSteps,
    analysis_stride,
    frames_per_second,
    plan_chunks,
    track_chunks,
)
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    EnvironmentMessage,
    ErrorMessage,
    ExerciseSummaryMessage,
    ImageOverlayMessage,
    InitializationMessage,
    JumpSummaryMessage,
    ProgressMessage,
    WarningMessage,
)
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.catalogue import JUMP_EXERCISE_IDS, get_exercise
from uptrack.exercises.engines import exercise_run_messages
from uptrack.export import Overlay, client_messages, drawing_request, export_messages
from uptrack.media import (
    DEFAULT_FPS,
    VideoInfo,
    load_image,
    media_kind,
    probe_video,
)
from uptrack.pose.engine import (
    DEFAULT_BLAZEPOSE,
    DEFAULT_MODEL,
    MODEL_NAMES,
    EngineSettings,
    PoseEstimator,
    create_estimator,
)
from uptrack.pose.people import multiple_people_warnings
from uptrack.pose.series import PoseSeries
from uptrack.reference.signature import ReferenceMovement
from uptrack.reference.store import ReferenceStore, reference_not_found
from uptrack.render import draw_skeleton, encode_png
from uptrack.smoothing import smooth_series
from uptrack.wire import frame_messages, keypoints_batch

#: Pose samples per second of video for pose-only uploads, references and fast exercises: every catalogue exercise
#: counts the same reps at 15 fps as at the full 30 fps on all shared clips (`make accuracy`), at half the inference.
ANALYSIS_FPS = 15.0
#: The lowest rate an exercise is analysed at: slower reps gain nothing from more samples, and 10 a second keep the
#: keypoint stream and tempo timing (0.1 s) fine enough.
MIN_ANALYSIS_FPS = 10.0
#: Samples wanted across the fastest rep of ideal tempo: two in each of the four phases the counter tracks.
SAMPLES_PER_FAST_REP = 8.0
#: Jumps are timed from take-off to landing: every frame the video has (a frame is 33 ms of a 400 ms flight).
FULL_RATE = math.inf
COMPLETED = "Analysis completed"
IGNORED_PARAM = "ignored_param"
"""Warning code for a malformed compatibility parameter that was replaced by its default."""


def model_for(request: AnalysisRequest) -> str:
    """MoveNet Lightning as PoseTracker by default; `blazepose=true` picks the `mediapipeModel` variant.

    BlazePose heavy is not shipped (27.7 MB, 3× slower than full for a small gain): it runs as full, and
    `opening_messages` says so with a `quality_downgraded` warning.
    """
    if not request.blazepose:
        return DEFAULT_MODEL
    variant = f"blazepose_{request.mediapipe_model}"
    return variant if variant in MODEL_NAMES else DEFAULT_BLAZEPOSE


def request_stride(request: AnalysisRequest, video_fps: float) -> int:
    """Every how many frames this request analyses a video of `video_fps`."""
    return analysis_stride(video_fps, analysis_fps(request))


def analysis_fps(request: AnalysisRequest) -> float:
    """Pose samples a second this request needs: an exercise gets `SAMPLES_PER_FAST_REP` across its fastest
    ideal rep (10 a second for squats or curls, 15 for jumping jacks), holds the lowest rate, everything else
    (pose streams, reference matching) `ANALYSIS_FPS`. Never above `ANALYSIS_FPS`, except jumps: `FULL_RATE`."""
    if request.exercise is None or request.reference is not None:
        return ANALYSIS_FPS
    if request.exercise in JUMP_EXERCISE_IDS:
        return FULL_RATE
    exercise = get_exercise(request.exercise)
    if exercise.is_duration:
        return MIN_ANALYSIS_FPS
    return min(ANALYSIS_FPS, max(MIN_ANALYSIS_FPS, SAMPLES_PER_FAST_REP / exercise.tempo.ideal[0]))


def is_final(message: BaseMessage) -> bool:
    """The last message of an analysis: clients stop listening after it."""
    if isinstance(message, ErrorMessage):
        return True
    return isinstance(message, InitializationMessage) and message.ready and message.message == COMPLETED


def opening_messages(request: AnalysisRequest, model: str | None = None) -> list[BaseMessage]:
    """What PoseTracker's page sends before results: loading state and the model that really runs, then a warning
    for each compatibility parameter whose malformed value was replaced by its default."""
    loading = "loading video" if request.source == "video" else "loading image"
    runtime = model or model_for(request)
    messages: list[BaseMessage] = [
        InitializationMessage(message=loading, ready=False, source=request.source),
        EnvironmentMessage(pose_backend=request.pose_backend, webgl=False, runtime=f"onnxruntime-cpu/{runtime}"),
    ]
    asked = f"blazepose_{request.mediapipe_model}"
    if request.blazepose and model is None and runtime != asked:
        messages.append(WarningMessage.of("quality_downgraded", f"{asked} is not available; running {runtime}."))
    messages += [
        WarningMessage.of(IGNORED_PARAM, f'{name}="{value}" is not a valid value: it was ignored and the default used.')
        for name, value in request.rejected.items()
    ]
    return messages


def truncation_warning(series: PoseSeries, expected_frames: int | None) -> WarningMessage | None:
    """`media_truncated` when decoding stopped well before the frame count the container announced (an upload cut
    off mid-stream): the results are right for the part that could be read, and the client is told it is a part.

    Headers may miscount a few frames at the end, so a gap counts only when it is over a second (longer than any
    sampling step) and over 5 %.
    """
    if not expected_frames or not len(series):
        return None
    fps = series.fps if series.fps > 0 else DEFAULT_FPS
    missing = expected_frames - 1 - int(series.frame_index[-1])
    if missing <= max(fps, 0.05 * expected_frames):
        return None
    read_s, total_s = (expected_frames - missing) / fps, expected_frames / fps
    return WarningMessage.of(
        "media_truncated",
        f"Only the first {read_s:.1f} s of {total_s:.1f} s could be decoded: the file looks truncated.",
        timestamp_ms=int(series.timestamp_ms[-1]),
    )


def check_decoded(series: PoseSeries, expected_frames: int | None) -> None:
    """`media_decode_error` when no moment of the video could be read: no frame at all, or a single one of a file
    cut short (`truncation_warning`'s rule). One instant shows no movement, so its analysis would report a count
    of 0 as if the video had been watched."""
    if len(series) == 0:
        raise UptrackError(ErrorCode.MEDIA_DECODE_ERROR, "No video frame could be decoded.")
    if len(series) == 1 and truncation_warning(series, expected_frames) is not None:
        message = f"Only the first frame of {expected_frames} could be decoded: the file looks truncated or damaged."
        raise UptrackError(ErrorCode.MEDIA_DECODE_ERROR, message, {"framesAnnounced": expected_frames})


def video_messages(
    series: PoseSeries,
    request: AnalysisRequest,
    references: ReferenceStore | None = None,
    owner: str | None = None,
    expected_frames: int | None = None,
) -> list[BaseMessage]:
    """The aggregator's job: everything after inference, in the order a client should read it.

    `references` and `owner` (the token's owner) resolve `reference=ID`; without a store every id is unknown.
    `expected_frames` (the container's frame count) adds `truncation_warning` before the closing message.
    Every video ends with a `counter` with `final: true` (count 0 for a pose-only upload, which counts nothing):
    clients written for PoseTracker stop listening on it.
    """
    from uptrack.reference.session import reference_messages  # deferred: DTW is the optional 'reference' extra

    smoothed = smooth_series(series)
    pose_only = request.exercise is None and request.reference is None
    timeline = frame_messages(smoothed, request, pose_only)
    closing: list[BaseMessage] = []
    if request.exercise is not None:
        analysis = exercise_run_messages(series, smoothed, request)
        timeline += [m for m in analysis if not _is_closing(m)]
        closing += [m for m in analysis if _is_closing(m)]
    if request.reference is not None:
        analysis = reference_messages(smoothed, request, _reference(references, request.reference, owner))
        timeline += [m for m in analysis if not _is_closing(m)]
        closing += [m for m in analysis if _is_closing(m)]
    timeline.sort(key=lambda m: m.timestamp_ms or 0)  # stable: per-frame messages stay before rep events
    end_ms = int(series.timestamp_ms[-1]) if len(series) else 0
    if pose_only:
        closing.append(CounterMessage(current_count=0, final=True, timestamp_ms=end_ms))
    if request.keypoints:
        closing.insert(1, keypoints_batch(smoothed))
    truncated = truncation_warning(series, expected_frames)
    if truncated is not None:
        closing.append(truncated)
    closing.append(InitializationMessage(message=COMPLETED, ready=True, source="video", timestamp_ms=end_ms))
    return timeline + closing


def _reference(references: ReferenceStore | None, reference_id: str, owner: str | None) -> ReferenceMovement:
    """The caller's reference movement; unknown ids, other owners' ids and a missing store read alike."""
    if references is None or owner is None:
        raise reference_not_found(reference_id)
    return references.get(reference_id, owner)


def _is_closing(message: BaseMessage) -> bool:
    """Final counter and summary (exercise or jumps) close the stream, after every per-frame message."""
    if isinstance(message, ExerciseSummaryMessage | JumpSummaryMessage):
        return True
    return isinstance(message, CounterMessage) and bool(message.final)


def image_messages(path: Path, request: AnalysisRequest, estimator: PoseEstimator) -> list[BaseMessage]:
    """Photo mode: the pose and its angles when asked (`keypoints`, `angles`: PoseTracker's photo page sends them as
    options), and the photo with the skeleton drawn unless `skeleton=false` (never counts reps)."""
    image = load_image(path)
    height, width = image.shape[:2]
    keypoints, presence = estimator.estimate_image(image)
    series = PoseSeries(
        model=estimator.name,
        names=estimator.names,
        frame_index=np.zeros(1, dtype=np.int64),
        timestamp_ms=np.zeros(1, dtype=np.float32),
        keypoints=keypoints[np.newaxis],
        presence=np.array([presence], dtype=np.float32),
        width=width,
        height=height,
        fps=0.0,
    )
    messages: list[BaseMessage] = [
        InitializationMessage(message="initializing pose model", ready=False, source="image"),
        InitializationMessage(message="running", ready=True, source="image"),
    ]
    messages += multiple_people_warnings(image, estimator)
    messages += frame_messages(series, request, pose_only=False)
    overlay = draw_skeleton(image, series.coco[0]) if request.skeleton is not False else image
    messages.append(ImageOverlayMessage.of(encode_png(overlay)))
    messages.append(InitializationMessage(message=COMPLETED, ready=True, source="image"))
    return messages


@dataclass(frozen=True)
class LocalRun:
    """How this machine runs an analysis: the engine's threads and models (`settings`), a forced pose model (by
    default the request picks it: `blazepose`, `mediapipeModel`), the chunk plan and the worker processes that
    analyse chunks in parallel (exactly the chunks the cloud gives its Lambdas), where `reference=ID` is resolved
    (`references`, for `owner`) and where `export=true` writes its video (`export_to`)."""

    settings: EngineSettings = field(default_factory=EngineSettings)
    model: str | None = None
    chunk_frames: int = DEFAULT_CHUNK_FRAMES
    workers: int = 1
    references: ReferenceStore | None = None
    owner: str | None = None
    export_to: Path | None = None

    def engine(self, request: AnalysisRequest) -> EngineSettings:
        model = self.model or model_for(request)
        return EngineSettings(model=model, threads=self.settings.threads, models_dir=self.settings.models_dir)


def analyze_path(path: Path, request: AnalysisRequest, run: LocalRun | None = None) -> Iterator[BaseMessage]:
    """Analyse a local file on this machine; every expected failure becomes one final `error` message."""
    run = run or LocalRun()
    try:
        yield from opening_messages(request, run.model)
        engine = run.engine(request)
        if request.source == "image" or media_kind(path) == "image":
            if request.source != "image":
                raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, "The file is an image; upload it with source=image.")
            yield from image_messages(path, request, create_estimator(engine))
            return
        yield from _video_run(path, request, run, engine)
    except UptrackError as error:
        yield ErrorMessage.from_error(error)


def _video_run(path: Path, request: AnalysisRequest, run: LocalRun, engine: EngineSettings) -> Iterator[BaseMessage]:
    """A video: progress while the workers run, then the aggregator's messages (and export)."""
    if request.reference is not None:
        _reference(run.references, request.reference, run.owner)  # an unknown id fails before any inference
    info = probe_video(path)
    stride = request_stride(request, info.fps)
    chunks = plan_chunks(info.frame_count, run.chunk_frames)
    parts: list[ChunkResult] = []
    for event in _with_progress(track_chunks(path, chunks, engine, info, stride, run.workers), info):
        if isinstance(event, ChunkResult):
            parts.append(event)
        else:
            yield event
    series = PoseSeries.concat([part.series for part in parts])
    check_decoded(series, info.frame_count)
    drawn = video_messages(series, drawing_request(request), run.references, run.owner, info.frame_count)
    messages = client_messages(drawn, request)
    if request.export and run.export_to is not None:
        overlay = Overlay.of(smooth_series(series), drawn, request.skeleton is not False)
        messages = export_messages(path, overlay, messages, run.export_to)
    yield from messages


def _with_progress(
    events: Iterator[ChunkResult | FramesDone], info: VideoInfo
) -> Iterator[ChunkResult | ProgressMessage]:
    """Chunk results as they come, and a `progress` message each time the frames decoded by all workers together
    reach another second of video (`SecondSteps`), the last one at 100 %: the bar moves smoothly however the video
    is chunked. (The cloud reports per chunk instead: each inference Lambda reports once, when it finishes.)"""
    steps = SecondSteps(frames_per_second(info), info.frame_count)
    for event in events:
        if isinstance(event, ChunkResult):
            yield event
        elif steps.passes(event.frames):
            done = min(event.frames, info.frame_count)
            percent = round(100.0 * done / info.frame_count, 1)
            yield ProgressMessage(percent=percent, frames_done=done, frames_total=info.frame_count)
