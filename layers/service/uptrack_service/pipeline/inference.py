"""The inference function's logic: one chunk of a video (Map item), or the whole photo (the short path).

A chunk decodes its frame range straight from S3 (a presigned GET that FFmpeg reads with range requests), runs
the pose engine, writes its `PoseSeries` as .npz and returns only the key: Step Functions state stays far below
its 256 KB limit whatever the video's length.
"""

from __future__ import annotations

import json
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from uptrack.chunks import ChunkSpec, infer_chunk
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import VideoInfo
from uptrack.pipeline import image_messages, model_for, opening_messages, request_stride
from uptrack.pose.engine import EngineSettings, PoseEstimator, create_estimator
from uptrack.pose.runtime import REPO_MODELS_DIR

from uptrack_service.delivery import Delivery, public_error
from uptrack_service.keys import chunk_key
from uptrack_service.models import ChunkTask, ImageResult, ImageTask, PartResult, Status, UploadRecord, task_record
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.ports import ObjectStore, UploadStore
from uptrack_service.settings import ServiceSettings

_NPZ: Final = "application/x-npz"
_estimators = threading.local()


class AnalysisTaskError(Exception):
    """Raised to Step Functions after the subscriber got the typed error; the message is the error as JSON,
    which the failure reporter reads back (so a Catch never turns a known failure into a generic one)."""

    def __init__(self, error: UptrackError) -> None:
        super().__init__(json.dumps({"code": error.code.value, "message": error.message}))
        self.error = error


@dataclass
class InferenceDeps:
    uploads: UploadStore
    objects: ObjectStore
    delivery: Delivery
    settings: ServiceSettings


def estimator_for(model: str, settings: ServiceSettings) -> PoseEstimator:
    """One loaded model per (thread, model): reused across warm invocations; threads never share a tracker."""
    cache: dict[str, PoseEstimator] = getattr(_estimators, "cache", None) or {}
    _estimators.cache = cache
    if model not in cache:
        models_dir = settings.models_dir or REPO_MODELS_DIR
        cache[model] = create_estimator(EngineSettings(model, settings.inference_threads, models_dir))
    return cache[model]


def _record(deps: InferenceDeps, upload_id: str, media_key: str) -> UploadRecord:
    record = task_record(deps.uploads.get(upload_id), media_key)
    if record.status is Status.FAILED:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "The analysis was stopped after an earlier failure.")
    return record


def _failed(deps: InferenceDeps, upload_id: str, error: UptrackError, record: UploadRecord | None) -> Exception:
    deps.delivery.fail(upload_id, error, opening_messages(record.analysis_request()) if record else ())
    return AnalysisTaskError(public_error(error))


@tracer.capture_method
def run_task(task: ChunkTask | ImageTask, deps: InferenceDeps) -> PartResult | ImageResult:
    if isinstance(task, ImageTask):
        return infer_image(task, deps)
    return infer_video_chunk(task, deps)


def infer_video_chunk(task: ChunkTask, deps: InferenceDeps) -> PartResult:
    record = None
    try:
        record = _record(deps, task.upload_id, task.media_key)
        chunk = task.chunk
        if chunk.key != chunk_key(task.upload_id, chunk.index) or chunk.stop > task.video.frame_count:
            raise UptrackError(ErrorCode.ANALYSIS_FAILED, "The chunk does not match its upload.")
        request = record.analysis_request()
        video = task.video
        info = VideoInfo(
            codec=video.codec,
            fps=video.fps,
            frame_count=video.frame_count,
            duration_s=video.duration_s,
            width=video.width,
            height=video.height,
            rotation=video.rotation,
        )
        estimator = estimator_for(model_for(request), deps.settings)
        source = deps.objects.media_source(task.media_key)
        stride = request_stride(request, info.fps)
        series = infer_chunk(source, ChunkSpec(chunk.index, chunk.start, chunk.stop), estimator, info, stride)
    except UptrackError as error:
        raise _failed(deps, task.upload_id, error, record) from None
    deps.objects.put_bytes(chunk.key, series.to_bytes(), _NPZ)
    deps.delivery.emit_progress(task.upload_id, chunk.index, chunk.stop - chunk.start, video.frame_count)
    metrics.add_metric(name="FramesAnalysed", unit="Count", value=len(series))
    logger.info("chunk done", extra={"upload_id": task.upload_id, "chunk": chunk.index, "frames": len(series)})
    return PartResult(key=chunk.key, frames=len(series))


def infer_image(task: ImageTask, deps: InferenceDeps) -> ImageResult:
    record = None
    try:
        record = _record(deps, task.upload_id, task.media_key)
        request = record.analysis_request()
        estimator = estimator_for(model_for(request), deps.settings)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "image"
            deps.objects.download(task.media_key, path)
            messages = image_messages(path, request, estimator)
    except UptrackError as error:
        raise _failed(deps, task.upload_id, error, record) from None
    deps.delivery.emit(task.upload_id, "final", messages)
    deps.uploads.transition(task.upload_id, Status.COMPLETED, (Status.PROCESSING,))
    metrics.add_metric(name="ImagesAnalysed", unit="Count", value=1)
    return ImageResult(messages=len(messages))
