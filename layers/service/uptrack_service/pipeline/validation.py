"""The validation function's logic: an object arrived in the bucket; check it and start its analysis once.

S3 (through EventBridge) delivers at least once, so everything here is idempotent: the upload moves to
`validating` only from a pre-analysis state, the opening messages are one delivery stage, the manifest is
rewritten identically, and the execution is named after the upload (Step Functions refuses a second one).

Start, then mark: the execution is started while the upload is still `validating` and only then marked
`processing`. A StartExecution that fails raises, the upload stays `validating` (a pre-analysis state) and
Lambda's asynchronous retry runs everything again; the execution name is the one idempotency key, so a start that
did succeed before a crash reads as "already exists" and the upload is marked all the same. (Marking first would
make every retry see a duplicate and the analysis never start.) The execution's own steps take seconds before
anything checks for `processing`, far longer than the one UpdateItem after the start.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote_plus

from uptrack.chunks import ChunkSpec, plan_chunks
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import MediaLimits, VideoInfo, check_container, media_kind, probe_video
from uptrack.pipeline import opening_messages
from uptrack.reference.store import reference_not_found

from uptrack_service.delivery import Delivery
from uptrack_service.keys import chunk_key, manifest_key, upload_id_from_key
from uptrack_service.models import AnalysisInput, ChunkItem, Outcome, Status, UploadRecord, VideoInfoPayload
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.ports import ObjectStore, Orchestrator, ReferenceIndex, UploadStore
from uptrack_service.settings import ServiceSettings

PRE_ANALYSIS: Final = (Status.AWAITING_UPLOAD, Status.FETCHING, Status.VALIDATING)
_HEAD_BYTES: Final = 64


@dataclass
class ValidationDeps:
    uploads: UploadStore
    objects: ObjectStore
    orchestrator: Orchestrator
    delivery: Delivery
    settings: ServiceSettings
    references: ReferenceIndex | None = None


def chunk_frames_for(info: VideoInfo, settings: ServiceSettings) -> int:
    """`CHUNK_FRAMES` (about 2 s at 30 fps: a warm worker's work stays near one second, so a minute of video
    finishes in a few seconds with 30 parallel workers), grown only when a long video would exceed `MAX_CHUNKS`."""
    return max(settings.chunk_frames, -(-info.frame_count // settings.max_chunks))


def chunk_plan(info: VideoInfo, settings: ServiceSettings) -> list[ChunkSpec]:
    return plan_chunks(info.frame_count, chunk_frames_for(info, settings))


def media_limits(settings: ServiceSettings) -> MediaLimits:
    """The work limits an upload is checked against before its analysis starts."""
    return MediaLimits(
        max_frame_pixels=settings.max_frame_pixels,
        max_frames=settings.max_video_frames,
        max_seconds=settings.max_video_seconds,
    )


def _video_payload(info: VideoInfo) -> VideoInfoPayload:
    return VideoInfoPayload(
        codec=info.codec,
        fps=info.fps,
        frame_count=info.frame_count,
        duration_s=round(info.duration_s, 3),
        width=info.width,
        height=info.height,
        rotation=info.rotation,
    )


def _sniff_kind(objects: ObjectStore, key: str) -> str:
    """`uptrack.media.media_kind` on the object's first bytes (a ranged read, not a download)."""
    with tempfile.TemporaryDirectory() as folder:
        head = Path(folder) / "head"
        head.write_bytes(objects.read_head(key, _HEAD_BYTES))
        return media_kind(head)


@tracer.capture_method
def validate_object(bucket: str, raw_key: str, deps: ValidationDeps) -> Outcome:
    """Handle one Object Created event; never raises for bad media (the subscriber gets a typed error)."""
    key = unquote_plus(raw_key)
    upload_id = upload_id_from_key(key)
    if bucket != deps.objects.bucket or upload_id is None:
        logger.info("not an analysis upload; ignored", extra={"key": key})
        return Outcome.IGNORED
    record = deps.uploads.get(upload_id)
    if record is None:
        logger.warning("object without an upload record; ignored", extra={"key": key})
        return Outcome.IGNORED
    if record.status not in PRE_ANALYSIS:
        logger.info("duplicate event; the analysis already started", extra={"upload_id": upload_id})
        metrics.add_metric(name="DuplicateUploadEvents", unit="Count", value=1)
        return Outcome.DUPLICATE
    if not deps.uploads.transition(upload_id, Status.VALIDATING, PRE_ANALYSIS):
        return Outcome.DUPLICATE
    request = record.analysis_request()
    opening = opening_messages(request)
    deps.delivery.emit(upload_id, "opening", opening)
    try:
        payload = _prepare(record, deps)
    except UptrackError as error:
        deps.delivery.fail(upload_id, error, opening)
        return Outcome.REJECTED
    started = deps.orchestrator.start(upload_id, payload.model_dump(mode="json", by_alias=True, exclude_none=True))
    fields = {} if payload.video is None else {"frames_total": payload.video.frame_count}
    deps.uploads.transition(upload_id, Status.PROCESSING, (Status.VALIDATING, Status.PROCESSING), fields)
    metrics.add_metric(name="AnalysesStarted" if started else "DuplicateUploadEvents", unit="Count", value=1)
    return Outcome.STARTED if started else Outcome.DUPLICATE


def _check_reference(record: UploadRecord, deps: ValidationDeps) -> None:
    """Checked at POST /uploads too; a reference deleted since then fails here, before any inference."""
    reference = record.analysis_request().reference
    if reference is None or deps.references is None or deps.references.exists(reference, record.token_hash):
        return
    raise reference_not_found(reference)


def _prepare(record: UploadRecord, deps: ValidationDeps) -> AnalysisInput:
    """Check the object and, for a video, plan and store its chunk manifest; raises UptrackError."""
    key = record.object_key
    code = ErrorCode.IMAGE_LOAD_ERROR if record.source == "image" else ErrorCode.VIDEO_LOAD_ERROR
    info = deps.objects.head(key)
    if info is None or info.size == 0:
        raise UptrackError(code, f"The uploaded {record.source} is empty or missing.")
    if info.size > record.max_bytes:
        deps.objects.delete(key)
        raise UptrackError(
            ErrorCode.MEDIA_TOO_LARGE,
            f"The file is larger than {record.max_bytes} bytes.",
            {"maxBytes": record.max_bytes},
        )
    base: dict[str, Any] = {"uploadId": record.upload_id, "bucket": deps.objects.bucket, "mediaKey": key}
    if record.source == "image":
        return AnalysisInput(**base, source="image")
    if _sniff_kind(deps.objects, key) == "image":
        raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, "The file is an image; upload it with source=image.")
    _check_reference(record, deps)
    check_container(deps.objects.read_head(key, _HEAD_BYTES))
    video = probe_video(deps.objects.media_source(key), limits=media_limits(deps.settings))
    chunks = chunk_plan(video, deps.settings)
    items = [
        ChunkItem(index=c.index, start=c.start, stop=c.stop, key=chunk_key(record.upload_id, c.index)) for c in chunks
    ]
    manifest = manifest_key(record.upload_id)
    deps.objects.put_bytes(manifest, json.dumps([i.model_dump() for i in items]).encode("utf-8"), "application/json")
    deps.uploads.transition(record.upload_id, Status.VALIDATING, (Status.VALIDATING,), {"chunk_count": len(chunks)})
    logger.info("chunk plan", extra={"upload_id": record.upload_id, "chunks": len(chunks), "frames": video.frame_count})
    inline = items if len(items) <= deps.settings.inline_map_max_chunks else None  # see the ASL's Route
    return AnalysisInput(**base, source="video", manifest_key=manifest, video=_video_payload(video), chunks=inline)
