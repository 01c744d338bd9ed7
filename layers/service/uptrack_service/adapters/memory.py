"""In-memory implementations of every port, for unit tests and single-process embedding (thread-safe)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.models import TERMINAL, Connection, Reservation, Status, UploadRecord
from uptrack_service.ports import ObjectInfo, ObjectMissingError, OutboundEvent, PresignedUpload, upload_headers


class MemoryObjectStore:
    def __init__(self, bucket: str = "memory") -> None:
        self.bucket = bucket
        self.objects: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._spill = tempfile.TemporaryDirectory(prefix="uptrack-memory-")

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self.objects[key] = (bytes(data), content_type)

    def get_bytes(self, key: str) -> bytes:
        with self._lock:
            if key not in self.objects:
                raise ObjectMissingError(key)
            return self.objects[key][0]

    def read_head(self, key: str, length: int) -> bytes:
        return self.get_bytes(key)[:length]

    def head(self, key: str) -> ObjectInfo | None:
        with self._lock:
            found = self.objects.get(key)
        return ObjectInfo(len(found[0]), found[1]) if found else None

    def download(self, key: str, path: Path) -> None:
        path.write_bytes(self.get_bytes(key))

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        data = stream.read()
        self.put_bytes(key, data, content_type)

    def delete(self, key: str) -> None:
        with self._lock:
            self.objects.pop(key, None)

    def presign_put(self, key: str, content_type: str, content_length: int, expires_s: int) -> PresignedUpload:
        headers = upload_headers(content_type, content_length)
        return PresignedUpload(f"memory://{self.bucket}/{key}?put", "PUT", headers, expires_s)

    def presign_get(self, key: str, expires_s: int) -> str:
        return f"memory://{self.bucket}/{key}?get"

    def media_source(self, key: str) -> Path:
        """The object as a file the decoder opens (S3 gives a URL; a decoder cannot read memory)."""
        path = Path(self._spill.name) / key.replace("/", "_")
        path.write_bytes(self.get_bytes(key))
        return path


class MemoryUploadStore:
    def __init__(self) -> None:
        self.records: dict[str, UploadRecord] = {}
        self._lock = threading.Lock()

    def create(self, record: UploadRecord) -> None:
        with self._lock:
            if record.upload_id in self.records:
                raise ValueError(f"upload {record.upload_id} exists")
            self.records[record.upload_id] = record

    def get(self, upload_id: str) -> UploadRecord | None:
        with self._lock:
            return self.records.get(upload_id)

    def _update(self, upload_id: str, **changes: Any) -> UploadRecord:
        record = self.records[upload_id].model_copy(update=changes)
        self.records[upload_id] = record
        return record

    def transition(
        self, upload_id: str, to: Status, allowed_from: Collection[Status], fields: Mapping[str, Any] | None = None
    ) -> bool:
        with self._lock:
            record = self.records.get(upload_id)
            if record is None or record.status not in allowed_from:
                return False
            self._update(upload_id, status=to, **dict(fields or {}))
            return True

    def reserve(self, upload_id: str, stage: str, count: int, frames: int = 0, while_open: bool = False) -> Reservation:
        with self._lock:
            record = self.records.get(upload_id)
            if record is None:
                raise UptrackError(ErrorCode.UPLOAD_NOT_FOUND, "No such upload.")
            if stage in record.stage_start:
                return Reservation(
                    start=record.stage_start[stage],
                    count=record.stage_count[stage],
                    subscribers=record.subscribers,
                    frames_done=record.frames_done,
                    fresh=False,
                )
            if while_open and record.status in TERMINAL:
                return Reservation.nothing(record)
            start = record.next_seq
            record = self._update(
                upload_id,
                next_seq=start + count,
                stage_start={**record.stage_start, stage: start},
                stage_count={**record.stage_count, stage: count},
                frames_done=record.frames_done + frames,
            )
            return Reservation(start=start, count=count, subscribers=record.subscribers, frames_done=record.frames_done)

    def subscribe(self, upload_id: str, connection_id: str, limit: int) -> bool:
        with self._lock:
            record = self.records.get(upload_id)
            if record is None:
                return False
            if connection_id not in record.subscribers and len(record.subscribers) >= limit:
                return False
            self._update(upload_id, subscribers=record.subscribers | {connection_id})
            return True

    def unsubscribe(self, upload_id: str, connection_id: str) -> None:
        with self._lock:
            record = self.records.get(upload_id)
            if record is not None:
                self._update(upload_id, subscribers=record.subscribers - {connection_id})


class MemoryConnectionStore:
    def __init__(self) -> None:
        self.connections: dict[str, Connection] = {}
        self.subscribes: dict[str, int] = {}
        self._lock = threading.Lock()

    def put(self, connection: Connection) -> None:
        with self._lock:
            self.connections[connection.connection_id] = connection

    def get(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self.connections.get(connection_id)

    def delete(self, connection_id: str) -> Connection | None:
        with self._lock:
            self.subscribes.pop(connection_id, None)
            return self.connections.pop(connection_id, None)

    def count_subscribe(self, connection_id: str) -> int:
        with self._lock:
            if connection_id not in self.connections:
                return 0
            self.subscribes[connection_id] = self.subscribes.get(connection_id, 0) + 1
            return self.subscribes[connection_id]


class RecordingPusher:
    """Keeps every frame per connection; connections in `gone` answer like API Gateway's 410."""

    def __init__(self, gone: Collection[str] = ()) -> None:
        self.frames: dict[str, list[bytes]] = {}
        self.gone = set(gone)
        self.attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def post(self, connection_id: str, data: bytes) -> bool:
        with self._lock:
            self.attempts[connection_id] = self.attempts.get(connection_id, 0) + 1
            if connection_id in self.gone:
                return False
            self.frames.setdefault(connection_id, []).append(data)
            return True


class RecordingEventSink:
    def __init__(self) -> None:
        self.events: list[OutboundEvent] = []
        self._lock = threading.Lock()

    def publish(self, events: Sequence[OutboundEvent]) -> None:
        with self._lock:
            self.events.extend(events)


class RecordingOrchestrator:
    """Starts nothing; remembers executions by name with Step Functions' duplicate-name rule."""

    def __init__(self) -> None:
        self.executions: dict[str, Mapping[str, Any]] = {}

    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        if name in self.executions:
            return False
        self.executions[name] = dict(payload)
        return True


class RecordingFetchLauncher:
    def __init__(self) -> None:
        self.launched: list[str] = []

    def launch(self, upload_id: str) -> None:
        self.launched.append(upload_id)
