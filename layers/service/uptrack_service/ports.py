"""What the service logic needs from the outside world, as protocols.

AWS adapters (adapters/s3_store.py, dynamodb_*.py, eventbridge.py, websocket.py, stepfunctions.py) implement
them for Lambda; adapters/memory.py implements them in memory for unit tests. Logic modules never import boto3.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from uptrack_service.models import Connection, Reservation, Status, UploadRecord


class ObjectMissingError(KeyError):
    """The object does not exist."""


@dataclass(frozen=True)
class PresignedUpload:
    """How a client sends its media: one HTTP request with exactly these headers."""

    url: str
    method: str
    headers: Mapping[str, str]
    expires_in_s: int


def upload_headers(content_type: str, content_length: int) -> dict[str, str]:
    """The headers a presigned PUT is signed for, so the client must send exactly these.

    `If-None-Match: *` makes the PUT a conditional write: S3 stores the object only if the key is still empty and
    answers 412 otherwise, so an upload key is written once. A presigned URL replayed after the analysis started
    (within its expiry) cannot replace the media that was analysed; a client that lost the first answer and
    retries gets 412, which means the file is already there.
    """
    return {"Content-Type": content_type, "Content-Length": str(content_length), "If-None-Match": "*"}


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None


class ObjectStore(Protocol):
    bucket: str

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None: ...

    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; raises ObjectMissingError."""
        ...

    def read_head(self, key: str, length: int) -> bytes:
        """The first `length` bytes (fewer for a short object); raises ObjectMissingError."""
        ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def download(self, key: str, path: Path) -> None: ...

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        """Stream to the object (multipart when large); nothing is left behind when reading fails."""
        ...

    def delete(self, key: str) -> None: ...

    def presign_put(self, key: str, content_type: str, content_length: int, expires_s: int) -> PresignedUpload: ...

    def presign_get(self, key: str, expires_s: int) -> str: ...

    def media_source(self, key: str) -> Path | str:
        """What the decoder opens: a URL it can read with range requests (a presigned GET on S3)."""
        ...


class UploadStore(Protocol):
    def create(self, record: UploadRecord) -> None:
        """Store a new record; the id is fresh, so an existing one is a bug (raises)."""
        ...

    def get(self, upload_id: str) -> UploadRecord | None: ...

    def transition(
        self, upload_id: str, to: Status, allowed_from: Collection[Status], fields: Mapping[str, Any] | None = None
    ) -> bool:
        """Set `status` (and `fields`) only when the current status is in `allowed_from`; False otherwise."""
        ...

    def reserve(self, upload_id: str, stage: str, count: int, frames: int = 0, while_open: bool = False) -> Reservation:
        """Reserve `count` seqs for `stage` once; a repeat returns the first reservation with fresh=False.

        `frames` is added to `frames_done` with the first reservation only (progress stays exact on retries).
        With `while_open`, a new stage of an upload that has completed or failed reserves nothing (count 0): a
        sibling chunk finishing after the error must not put a `progress` after the upload's last message.
        Raises UptrackError upload_not_found when there is no such upload.
        """
        ...

    def subscribe(self, upload_id: str, connection_id: str, limit: int) -> bool:
        """Add a live subscriber; False when the upload is missing or has `limit` subscribers already."""
        ...

    def unsubscribe(self, upload_id: str, connection_id: str) -> None: ...


class ConnectionStore(Protocol):
    def put(self, connection: Connection) -> None: ...

    def get(self, connection_id: str) -> Connection | None: ...

    def delete(self, connection_id: str) -> Connection | None:
        """Remove and return the connection (None when it was not there)."""
        ...

    def count_subscribe(self, connection_id: str) -> int:
        """Count one `subscribe` on this connection, atomically; the new count (0 when the connection is gone)."""
        ...


class Pusher(Protocol):
    """The WebSocket management API."""

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send one frame; False when the connection is gone (410), so the caller forgets it."""
        ...


@dataclass(frozen=True)
class OutboundEvent:
    detail_type: str
    detail: str
    resources: Sequence[str] = field(default_factory=tuple)


class EventSink(Protocol):
    """EventBridge (source `uptrack`)."""

    def publish(self, events: Sequence[OutboundEvent]) -> None: ...


class Orchestrator(Protocol):
    """Step Functions."""

    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        """Start the analysis named `name`; False when that execution already exists (a duplicate event)."""
        ...


class FetchLauncher(Protocol):
    """Starts the media fetch for a videoSrc/imageSrc upload, asynchronously."""

    def launch(self, upload_id: str) -> None: ...


class ReferenceIndex(Protocol):
    """The cheap side of a reference store (nothing parsed into a signature, so no numpy in zip functions)."""

    def exists(self, reference_id: str, owner: str) -> bool: ...

    def summary(self, reference_id: str, owner: str) -> dict[str, Any] | None:
        """The owner's reference without its signature frames, or None."""
        ...
