"""The HTTP API's logic: reserve an upload (or a reference upload), report one, and fetch remote media.

`create_upload` admits a request exactly like PoseTracker's page (query parameters parsed by the contract, token
and plan checked, an in-flight slot held, one API call metered), then either hands back a presigned PUT bound to
the declared type and size, or, for `videoSrc`/`imageSrc`, starts the server-side fetch. Object keys come from the
upload id alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import AnalysisRequest, parse_query
from uptrack.contract.tokens import TokenRecord, TokenStore, admit_token, hash_token, meter
from uptrack.reference.store import reference_not_found

from uptrack_service.api.slots import hold_slot
from uptrack_service.delivery import Delivery
from uptrack_service.keys import UPLOAD_ID_RE, media_key, new_upload_id, reference_key
from uptrack_service.models import (
    Outcome,
    ReferenceClip,
    Status,
    UploadKind,
    UploadRecord,
    stored_request,
    upload_not_found,
)
from uptrack_service.observability import logger, metrics
from uptrack_service.pipeline.fetch import check_media_url, fetch_into, fetch_policy
from uptrack_service.ports import FetchLauncher, ObjectStore, ReferenceIndex, UploadStore
from uptrack_service.settings import ServiceSettings

VIDEO_TYPES: Final = frozenset(
    {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/x-msvideo", "video/3gpp", "video/mpeg"}
)
IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp", "image/bmp"})
DEFAULT_TYPES: Final = {"video": "video/mp4", "image": "image/jpeg"}


class UploadBody(BaseModel):
    """The optional JSON body of POST /uploads and POST /references: what the client will PUT."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    content_type: str | None = Field(default=None, alias="contentType", max_length=100)
    content_length: int | None = Field(default=None, alias="contentLength", ge=1)


class UploadTarget(BaseModel):
    url: str
    method: str
    headers: dict[str, str]
    expires_in_s: int = Field(serialization_alias="expiresInS")


class CreatedUpload(BaseModel):
    """The 201 body: the id, where to PUT (absent for fetched media), and where to listen."""

    upload_id: str = Field(serialization_alias="uploadId")
    kind: str
    status: str
    upload: UploadTarget | None = None
    websocket_url: str = Field(serialization_alias="websocketUrl")
    subscribe: dict[str, str]


class UploadView(BaseModel):
    """GET /uploads/{id}: status and the stored messages after `afterSeq` (paged by size)."""

    upload_id: str = Field(serialization_alias="uploadId")
    kind: str
    status: str
    error: str | None = None
    progress: float | None = None
    messages: list[dict[str, Any]]
    next_after_seq: int | None = Field(default=None, serialization_alias="nextAfterSeq")


@dataclass(frozen=True)
class Catalogue:
    exercise_ids: Collection[str]
    duration_exercise_ids: Collection[str]


def default_catalogue() -> Catalogue:
    from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids

    return Catalogue(exercise_ids(), duration_exercise_ids())


@dataclass
class UploadDeps:
    uploads: UploadStore
    objects: ObjectStore
    tokens: TokenStore
    fetcher: FetchLauncher
    settings: ServiceSettings
    catalogue: Catalogue
    now: Callable[[], datetime]
    delivery: Delivery
    references: ReferenceIndex | None = None


def _content_type(request: AnalysisRequest, body: UploadBody) -> str:
    kind = request.source
    content_type = (body.content_type or DEFAULT_TYPES[kind]).split(";", 1)[0].strip().lower()
    allowed = IMAGE_TYPES if kind == "image" else VIDEO_TYPES
    if content_type not in allowed:
        raise UptrackError(
            ErrorCode.INVALID_PARAMS,
            f"contentType must be one of {', '.join(sorted(allowed))} for source={kind}.",
            {"params": ["contentType"]},
        )
    return content_type


def _max_bytes(request: AnalysisRequest, settings: ServiceSettings) -> int:
    return settings.max_image_bytes if request.source == "image" else settings.max_video_bytes


def websocket_address(settings: ServiceSettings, upload_id: str) -> str:
    """Where to subscribe; the client appends its own `&token=` (the API never echoes tokens)."""
    return f"{settings.websocket_url}?{urlencode({'uploadId': upload_id})}"


@dataclass(frozen=True)
class Admission:
    """A request that passed every check a client can fix, before anything is metered or stored."""

    request: AnalysisRequest
    kind: UploadKind
    content_type: str
    max_bytes: int
    remote: str | None
    """The `videoSrc`/`imageSrc` the service fetches, or None when the client PUTs the file."""


def create_upload(
    query: str | Mapping[str, str | Sequence[str]],
    body: UploadBody,
    deps: UploadDeps,
    kind: UploadKind = UploadKind.ANALYSIS,
    clip: ReferenceClip | None = None,
) -> CreatedUpload:
    """Admit one upload; raises UptrackError (the HTTP layer maps codes to statuses).

    `clip` (reference uploads) says where the repetition lies in the clip the client will send.
    """
    now = deps.now()
    admission = admit(query, body, deps, kind)
    upload_id = new_upload_id()
    token = charge(admission, upload_id, now, deps)
    record = record_upload(admission, upload_id, token, clip, now, deps)
    return CreatedUpload(
        upload_id=record.upload_id,
        kind=kind.value,
        status=record.status.value,
        upload=upload_target(record, body, deps),
        websocket_url=websocket_address(deps.settings, record.upload_id),
        subscribe={"action": "subscribe", "uploadId": record.upload_id},
    )


def admit(
    query: str | Mapping[str, str | Sequence[str]], body: UploadBody, deps: UploadDeps, kind: UploadKind
) -> Admission:
    """Parse and check the request in the order a client can fix it; nothing is charged yet."""
    request = parse_query(
        query,
        exercise_ids=deps.catalogue.exercise_ids,
        duration_exercise_ids=deps.catalogue.duration_exercise_ids,
    )
    if kind is UploadKind.REFERENCE and request.source != "video":
        raise UptrackError(ErrorCode.INVALID_PARAMS, "A reference movement is a video.", {"params": ["source"]})
    remote = request.image_src if request.source == "image" else request.video_src
    content_type = _content_type(request, body)
    max_bytes = _max_bytes(request, deps.settings)
    if remote is None:
        _check_length(body, max_bytes)
    else:
        check_media_url(
            remote, "imageSrc" if request.source == "image" else "videoSrc", fetch_policy(deps.settings, max_bytes)
        )
    _check_reference(request, deps)
    return Admission(request, kind, content_type, max_bytes, remote)


def _check_length(body: UploadBody, max_bytes: int) -> None:
    if body.content_length is None:
        required = {"params": ["contentLength"]}
        raise UptrackError(ErrorCode.INVALID_PARAMS, "contentLength (bytes) is required.", required)
    if body.content_length > max_bytes:
        raise UptrackError(
            ErrorCode.MEDIA_TOO_LARGE, f"The file is larger than {max_bytes} bytes.", {"maxBytes": max_bytes}
        )


def charge(admission: Admission, upload_id: str, now: datetime, deps: UploadDeps) -> TokenRecord:
    """Token and plan checked, an in-flight slot held, then one call metered: a refusal at any step costs nothing."""
    request = admission.request
    token = admit_token(request.token, request, deps.tokens)
    slot = hold_slot(token, upload_id, deps.tokens, deps.uploads, now, deps.settings)
    try:
        return meter(token, deps.tokens, now)
    except UptrackError:
        deps.tokens.release_slots(token.token_hash, [slot])
        raise


def record_upload(
    admission: Admission,
    upload_id: str,
    token: TokenRecord,
    clip: ReferenceClip | None,
    now: datetime,
    deps: UploadDeps,
) -> UploadRecord:
    """Store the admitted upload: waiting for its PUT, or for the fetch of its URL."""
    record = UploadRecord(
        upload_id=upload_id,
        kind=admission.kind,
        token_hash=token.token_hash,
        token_id=token.token_id,
        request=stored_request(admission.request),
        source=admission.request.source,
        object_key=reference_key(upload_id) if admission.kind is UploadKind.REFERENCE else media_key(upload_id),
        content_type=admission.content_type,
        max_bytes=admission.max_bytes,
        status=Status.FETCHING if admission.remote else Status.AWAITING_UPLOAD,
        created_at=now,
        expires_at=int((now + timedelta(days=deps.settings.upload_ttl_days)).timestamp()),
        clip=clip,
    )
    deps.uploads.create(record)
    metrics.add_metric(name="UploadsCreated", unit="Count", value=1)
    extra = {"upload_id": upload_id, "kind": admission.kind.value, "token_id": token.token_id}
    logger.info("upload created", extra=extra)
    return record


def upload_target(record: UploadRecord, body: UploadBody, deps: UploadDeps) -> UploadTarget | None:
    """Where the client PUTs its file (a presigned URL bound to type and size), or None once the fetch started."""
    if record.status is Status.FETCHING:
        deps.fetcher.launch(record.upload_id)
        return None
    assert body.content_length is not None  # admit() requires it for an upload the client sends
    signed = deps.objects.presign_put(
        record.object_key, record.content_type, body.content_length, deps.settings.upload_url_expiry_s
    )
    return UploadTarget(
        url=signed.url, method=signed.method, headers=dict(signed.headers), expires_in_s=signed.expires_in_s
    )


def _check_reference(request: AnalysisRequest, deps: UploadDeps) -> None:
    """`reference=ID` must name one of this token's references: refused here, before anything is metered.

    Only a live token is looked at (a bad token still gets its own error from `admit_token`); another token's id
    reads exactly like an unknown one.
    """
    if request.reference is None or deps.references is None or not request.token:
        return
    token_hash = hash_token(request.token)
    record = deps.tokens.get(token_hash)
    if record is None or record.revoked:
        return
    if not deps.references.exists(request.reference, token_hash):
        raise reference_not_found(request.reference)


def owned_upload(uploads: UploadStore, upload_id: str, raw_token: str | None) -> UploadRecord:
    """The upload if this token owns it; the same `upload_not_found` otherwise (ids are not probeable)."""
    if not raw_token:
        raise UptrackError(ErrorCode.MISSING_TOKEN, "Missing token=YOUR_API_KEY.")
    # an id that cannot be one (garbage, a 3 KB string) never reaches the store, whose key limit would make it a 500
    record = uploads.get(upload_id) if re.fullmatch(UPLOAD_ID_RE, upload_id) else None
    if record is None or record.token_hash != hash_token(raw_token):
        raise upload_not_found()
    return record


def get_upload(upload_id: str, raw_token: str | None, after_seq: int, deps: UploadDeps) -> UploadView:
    """Status and stored messages after `after_seq`, up to the response budget (`nextAfterSeq` pages on)."""
    record = owned_upload(deps.uploads, upload_id, raw_token)
    budget = deps.settings.get_messages_budget_bytes
    messages: list[dict[str, Any]] = []
    next_after: int | None = None
    used = 0
    for wire in deps.delivery.stored(record, after_seq):
        frame = deps.delivery.sendable(upload_id, wire, deps.settings.ws_message_limit_bytes)
        if messages and used + len(frame) > budget:
            next_after = int(messages[-1]["seq"])
            break
        used += len(frame)
        messages.append(_loads(frame))
    progress = None
    if record.frames_total:
        progress = round(100.0 * min(record.frames_done, record.frames_total) / record.frames_total, 1)
    return UploadView(
        upload_id=upload_id,
        kind=record.kind.value,
        status=record.status.value,
        error=record.error_code,
        progress=progress,
        messages=messages,
        next_after_seq=next_after,
    )


def _loads(frame: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(frame)
    return loaded


def fetch_media(upload_id: str, deps: UploadDeps) -> Outcome:
    """The fetch function: stream the upload's videoSrc/imageSrc into its key (S3 then starts validation)."""
    record = deps.uploads.get(upload_id)
    if record is None or record.status is not Status.FETCHING:
        logger.info("nothing to fetch", extra={"upload_id": upload_id})
        return Outcome.IGNORED
    request = record.analysis_request()
    url = request.image_src if request.source == "image" else request.video_src
    if url is None:
        return Outcome.IGNORED
    policy = fetch_policy(deps.settings, record.max_bytes)
    try:
        size = fetch_into(url, request.source, deps.objects, record.object_key, policy)
    except UptrackError as error:
        deps.delivery.fail(upload_id, error)  # no pose stack here: the subscriber gets the error alone
        return Outcome.REJECTED
    logger.info("media fetched", extra={"upload_id": upload_id, "bytes": size})
    return Outcome.FETCHED
