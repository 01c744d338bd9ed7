"""Every S3 key the service writes, made from server-generated ids only: a client never names a key.

The upload id is a random UUID, so a key is unguessable and parses back to its upload (`upload_id_from_key`) only
when it has exactly the shape made here; anything else in the bucket is not ours to act on.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

UPLOAD_ID_RE: Final = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
MEDIA_PREFIX: Final = "media/"
REFERENCE_PREFIX: Final = "references/"
SIGNATURE_PREFIX: Final = "signatures/"
EXPORT_PREFIX: Final = "exports/"
_MEDIA_KEY = re.compile(r"^media/([0-9a-f-]{36})/source$")
_REFERENCE_KEY = re.compile(r"^references/([0-9a-f-]{36})/source$")


def new_upload_id() -> str:
    """A random UUID: unguessable, a valid Step Functions execution name, and the only part of our keys."""
    return str(uuid.uuid4())


def media_key(upload_id: str) -> str:
    return f"{MEDIA_PREFIX}{upload_id}/source"


def reference_key(upload_id: str) -> str:
    return f"{REFERENCE_PREFIX}{upload_id}/source"


def _id_of(pattern: re.Pattern[str], key: str) -> str | None:
    match = pattern.match(key)
    return match.group(1) if match and re.match(UPLOAD_ID_RE, match.group(1)) else None


def upload_id_from_key(key: str) -> str | None:
    """The upload id of an analysis media key (already unquoted), or None for any other object."""
    return _id_of(_MEDIA_KEY, key)


def reference_id_from_key(key: str) -> str | None:
    """The upload id (= reference id) of a reference clip key (already unquoted), or None for any other object."""
    return _id_of(_REFERENCE_KEY, key)


def signature_key(owner: str, reference_id: str) -> str:
    """Where a reference's signature lives: under its owner, so another owner's id is simply not there."""
    return f"{SIGNATURE_PREFIX}{owner}/{reference_id}.json"


def export_plan_key(upload_id: str) -> str:
    """What the renderers draw (poses, counted reps) and the closing message, written by the aggregator."""
    return f"work/{upload_id}/export/plan.npz"


def export_part_key(upload_id: str, index: int) -> str:
    return f"work/{upload_id}/export/parts/{index:05d}.mp4"


def export_key(upload_id: str) -> str:
    return f"{EXPORT_PREFIX}{upload_id}/uptrack.mp4"


def manifest_key(upload_id: str) -> str:
    return f"work/{upload_id}/manifest.json"


def chunk_key(upload_id: str, index: int) -> str:
    return f"work/{upload_id}/chunks/{index:05d}.npz"


def segment_key(upload_id: str, stage: str) -> str:
    return f"messages/{upload_id}/{stage}.json"


def large_message_key(upload_id: str, seq: int) -> str:
    return f"messages/{upload_id}/large/{seq:08d}.json"
