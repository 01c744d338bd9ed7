"""Reference movements over the HTTP API: reserve a reference upload, and read a reference's status.

POST /references reserves an upload exactly like POST /uploads (token, plan, quota, presigned PUT bound to type
and size, or `videoSrc`), plus where the repetition lies in the clip (`start`/`end` seconds in the body) and a
label. The clip lands under `references/`, and the reference processor (reference_processing.py, a container
function: it runs the pose engine) turns it into a signature stored under the token. The reference id is the
upload id.

GET /references/{id} answers for the owning token only: `completed` with the stored reference's summary, or the
reservation's status (`awaiting_upload`, `processing`, `failed` with the error code). Anything else, including
another token's id, is `reference_not_found`. This module stays light (no numpy): it runs in zip functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import BaseModel, Field, model_validator
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.tokens import hash_token
from uptrack.reference.store import reference_not_found

from uptrack_service.api.upload_service import CreatedUpload, UploadBody, UploadDeps, create_upload
from uptrack_service.keys import UPLOAD_ID_RE
from uptrack_service.models import ReferenceClip, Status, UploadKind
from uptrack_service.ports import ReferenceIndex, UploadStore

MAX_CLIP_S: Final = 60.0
"""Longest reference clip (or start-end range) analysed: a reference holds one repetition of at most 20 s."""


class ReferenceBody(UploadBody):
    """POST /references' body: what the client will PUT, and where the repetition lies in it (seconds)."""

    start: float | None = Field(default=None, ge=0, le=24 * 3600, allow_inf_nan=False)
    end: float | None = Field(default=None, gt=0, le=24 * 3600, allow_inf_nan=False)
    name: str = Field(default="", max_length=100)

    @model_validator(mode="after")
    def _ordered(self) -> ReferenceBody:
        if self.start is not None and self.end is not None and not self.start < self.end:
            raise UptrackError(ErrorCode.INVALID_PARAMS, "start must be before end.", {"params": ["start", "end"]})
        if self.start is not None and self.end is not None and self.end - self.start > MAX_CLIP_S:
            raise UptrackError(
                ErrorCode.INVALID_PARAMS,
                f"A reference repetition lasts at most {MAX_CLIP_S:g} s between start and end.",
                {"params": ["start", "end"]},
            )
        return self

    def clip(self) -> ReferenceClip:
        label = "".join(ch for ch in self.name if ch.isprintable()).strip()
        return ReferenceClip(start_s=self.start, end_s=self.end, name=label)

    def upload_body(self) -> UploadBody:
        return UploadBody(content_type=self.content_type, content_length=self.content_length)


class CreatedReference(CreatedUpload):
    """POST /references' 201 body: the upload's fields plus `referenceId` (the same id)."""

    reference_id: str = Field(serialization_alias="referenceId")


def create_reference_upload(
    query: str | Mapping[str, str | Sequence[str]], body: ReferenceBody, deps: UploadDeps
) -> CreatedReference:
    created = create_upload(query, body.upload_body(), deps, UploadKind.REFERENCE, clip=body.clip())
    return CreatedReference(**created.model_dump(), reference_id=created.upload_id)


class ReferenceView(BaseModel):
    """GET /references/{id}: the reservation's status, and the stored reference once it is made."""

    reference_id: str = Field(serialization_alias="referenceId")
    status: str
    error: str | None = None
    name: str | None = None
    model: str | None = None
    start_ms: int | None = Field(default=None, serialization_alias="startMs")
    end_ms: int | None = Field(default=None, serialization_alias="endMs")
    duration_ms: int | None = Field(default=None, serialization_alias="durationMs")
    created_at: str | None = Field(default=None, serialization_alias="createdAt")


def get_reference(
    reference_id: str, raw_token: str | None, uploads: UploadStore, references: ReferenceIndex
) -> ReferenceView:
    if not raw_token:
        raise UptrackError(ErrorCode.MISSING_TOKEN, "Missing token=YOUR_API_KEY.")
    if not re.fullmatch(UPLOAD_ID_RE, reference_id):  # ids are upload ids; garbage never reaches the stores
        raise reference_not_found(reference_id)
    owner = hash_token(raw_token)
    stored = references.summary(reference_id, owner)
    if stored is not None:  # the signature outlives its reservation record (records expire, references do not)
        return ReferenceView(
            reference_id=reference_id,
            status=Status.COMPLETED.value,
            name=_text(stored.get("name")),
            model=_text(stored.get("model")),
            start_ms=_int(stored.get("start_ms")),
            end_ms=_int(stored.get("end_ms")),
            duration_ms=_int(stored.get("duration_ms")),
            created_at=_text(stored.get("created_at")),
        )
    record = uploads.get(reference_id)
    if record is None or record.kind is not UploadKind.REFERENCE or record.token_hash != owner:
        raise reference_not_found(reference_id)
    status = record.status
    if status is Status.COMPLETED:  # completed, then the signature was deleted
        raise reference_not_found(reference_id)
    return ReferenceView(reference_id=reference_id, status=status.value, error=record.error_code)


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None
