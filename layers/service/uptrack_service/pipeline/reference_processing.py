"""The reference processor: a clip arrived under `references/`; extract the pose and store the signature.

An S3 Object Created event (EventBridge, at least once) brings the key. The reservation made by POST /references
says who owns the reference (the token's hash) and where the repetition lies (`clip`). The clip is decoded straight
from S3 around that range (plus the context the signature's scale window needs, as `uptrack reference create`
does), run through the pose engine, smoothed, and turned into a `ReferenceMovement` whose id is the upload id,
stored by the `ReferenceStore` under the owner.

Subscribers of the reservation hear the opening messages, then the closing `initialization` ("Analysis
completed") or one typed `error`; the reservation's status says the same to GET /references/{id}. A repeated
event for a finished reservation changes nothing; one for a reservation still processing (a retried crash)
makes the same signature again.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import unquote_plus

from uptrack.chunks import ChunkSpec, infer_chunk
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import InitializationMessage
from uptrack.media import VideoInfo, media_kind, probe_video
from uptrack.pipeline import COMPLETED, model_for, opening_messages, request_stride
from uptrack.reference.features import SCALE_WINDOW_S
from uptrack.reference.signature import ReferenceMovement, create_reference
from uptrack.reference.store import ReferenceStore
from uptrack.smoothing import smooth_series

from uptrack_service.api.references import MAX_CLIP_S
from uptrack_service.delivery import Delivery
from uptrack_service.keys import reference_id_from_key
from uptrack_service.models import OPEN, TERMINAL, Outcome, ReferenceClip, Status, UploadKind, UploadRecord
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.inference import estimator_for
from uptrack_service.ports import ObjectStore, UploadStore
from uptrack_service.settings import ServiceSettings

CONTEXT_S: Final = SCALE_WINDOW_S + 0.2
"""Seconds decoded around start/end (as the CLI does): the body's size is measured over a window past the rep."""
_HEAD_BYTES: Final = 64


@dataclass
class ReferenceDeps:
    uploads: UploadStore
    objects: ObjectStore
    references: ReferenceStore
    delivery: Delivery
    settings: ServiceSettings


def clip_frames(info: VideoInfo, clip: ReferenceClip) -> ChunkSpec:
    """Frames to analyse for a clip: [start - context, end + context], within the video; raises for a range
    outside the video or too long to hold one repetition."""
    start_s = clip.start_s or 0.0
    end_s = info.duration_s if clip.end_s is None else clip.end_s
    if start_s >= info.duration_s or end_s <= start_s:
        raise UptrackError(
            ErrorCode.INVALID_PARAMS,
            f"start/end must lie within the clip (0-{info.duration_s:.2f} s) with start before end.",
            {"params": ["start", "end"]},
        )
    if min(end_s, info.duration_s) - start_s > MAX_CLIP_S:
        raise UptrackError(
            ErrorCode.INVALID_PARAMS,
            f"A reference clip (or its start-end range) lasts at most {MAX_CLIP_S:g} s; cut it or give start/end.",
            {"params": ["start", "end"]},
        )
    first = 0 if clip.start_s is None else max(0, math.floor((start_s - CONTEXT_S) * info.fps))
    stop = info.frame_count if clip.end_s is None else min(info.frame_count, math.ceil((end_s + CONTEXT_S) * info.fps))
    return ChunkSpec(0, first, max(stop, first + 1))


@tracer.capture_method
def process_reference(bucket: str, raw_key: str, deps: ReferenceDeps) -> Outcome:
    """Handle one Object Created event under `references/`; never raises for a bad clip (typed error instead)."""
    key = unquote_plus(raw_key)
    upload_id = reference_id_from_key(key)
    if bucket != deps.objects.bucket or upload_id is None:
        logger.info("not a reference clip; ignored", extra={"key": key})
        return Outcome.IGNORED
    record = deps.uploads.get(upload_id)
    if record is None or record.kind is not UploadKind.REFERENCE or record.object_key != key:
        logger.warning("clip without a reference reservation; ignored", extra={"key": key})
        return Outcome.IGNORED
    if record.status in TERMINAL or not deps.uploads.transition(upload_id, Status.PROCESSING, OPEN):
        logger.info("duplicate event; the reference is already made", extra={"upload_id": upload_id})
        return Outcome.DUPLICATE
    opening = opening_messages(record.analysis_request())
    deps.delivery.emit(upload_id, "opening", opening)
    try:
        movement = extract(record, deps)
    except UptrackError as error:
        deps.delivery.fail(upload_id, error, opening)
        return Outcome.REJECTED
    deps.references.put(movement)
    done = InitializationMessage(message=COMPLETED, ready=True, source="video", timestamp_ms=movement.end_ms)
    deps.delivery.emit(upload_id, "final", [done])
    deps.uploads.transition(upload_id, Status.COMPLETED, (Status.PROCESSING,))
    metrics.add_metric(name="ReferencesCreated", unit="Count", value=1)
    logger.info("reference created", extra={"upload_id": upload_id, "frames": len(movement.frames)})
    return Outcome.CREATED


def extract(record: UploadRecord, deps: ReferenceDeps) -> ReferenceMovement:
    """The clip's signature, owned by the reservation's token; raises UptrackError."""
    key = record.object_key
    found = deps.objects.head(key)
    if found is None or found.size == 0:
        raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, "The uploaded video is empty or missing.")
    if found.size > record.max_bytes:
        deps.objects.delete(key)
        raise UptrackError(
            ErrorCode.MEDIA_TOO_LARGE,
            f"The file is larger than {record.max_bytes} bytes.",
            {"maxBytes": record.max_bytes},
        )
    with tempfile.TemporaryDirectory() as folder:
        head = Path(folder) / "head"
        head.write_bytes(deps.objects.read_head(key, _HEAD_BYTES))
        if media_kind(head) == "image":
            raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, "A reference movement is a video, not an image.")
    source = deps.objects.media_source(key)
    info = probe_video(source)
    clip = record.clip or ReferenceClip()
    frames = clip_frames(info, clip)
    request = record.analysis_request()
    estimator = estimator_for(model_for(request), deps.settings)
    series = smooth_series(infer_chunk(source, frames, estimator, info, request_stride(request, info.fps)))
    if len(series) == 0:
        raise UptrackError(ErrorCode.MEDIA_DECODE_ERROR, "No video frame could be decoded.")
    movement = create_reference(
        series,
        record.token_hash,
        start_ms=None if clip.start_s is None else 1000.0 * clip.start_s,
        end_ms=None if clip.end_s is None else 1000.0 * clip.end_s,
        name=clip.name,
    )
    return movement.model_copy(update={"id": record.upload_id})
