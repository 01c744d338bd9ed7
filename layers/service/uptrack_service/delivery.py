"""Every message of an upload goes through here: numbered, stored, published, pushed.

A *stage* is one batch of messages produced by one step (`opening`, `progress-00003`, `final`, `error`). For each
stage, in this order:

1. reserve its `seq` range in the upload record (once: a retried step gets the same range back, and re-sends the
   stored copy instead of new content, so a seq always means one message);
2. store it as one S3 object (`messages/{upload}/{stage}.json`) so replays and polling see it;
3. publish the rep-level and final messages to EventBridge (per-frame ones would cost more than the analysis);
4. push it to every live subscriber, in order, dropping connections API Gateway reports gone (410): those of the
   reservation and those subscribed since (read again after the store, so none falls between push and replay).

Messages over API Gateway's WebSocket frame limit (or EventBridge's event limit) are sent as a `message_link`
envelope with a presigned URL of the full message. Nothing here raises on a gone client; AWS errors do raise, so
the Lambda's retry re-runs the stage idempotently.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from uptrack.contract.errors import UptrackError
from uptrack.contract.messages import BaseMessage, ErrorMessage, ProgressMessage, dump_message

from uptrack_service.keys import large_message_key, segment_key
from uptrack_service.models import OPEN, Reservation, Status, UploadRecord
from uptrack_service.observability import logger, metrics
from uptrack_service.ports import (
    ConnectionStore,
    EventSink,
    ObjectMissingError,
    ObjectStore,
    OutboundEvent,
    Pusher,
    UploadStore,
)

EVENTBRIDGE_TYPES: Final = frozenset(
    {
        "initialization",
        "environment",
        "error",
        "warning",
        "posture",
        "counter",
        "form_score",
        "recommendations",
        "exercise_summary",
        "export_ready",
        "jump_result",
        "jump_summary",
    }
)
"""Rep-level and final messages; keypoints, angles, progression, progress, batches and overlays stay off the bus."""

LINK_TYPE: Final = "message_link"
_JSON: Final = "application/json"
_HIDDEN_DETAILS: Final = frozenset({"path", "url"})


def encode(wire: dict[str, Any]) -> bytes:
    return json.dumps(wire, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def wire_of(message: BaseMessage, seq: int, upload_id: str) -> dict[str, Any]:
    """The stored and sent form: the contract's JSON plus the `seq` and `uploadId` envelope."""
    return dump_message(message.model_copy(update={"seq": seq, "upload_id": upload_id}))


def public_error(error: UptrackError) -> UptrackError:
    """The error as a user may see it: no server paths or URLs in `details`."""
    details = {key: value for key, value in error.details.items() if key not in _HIDDEN_DETAILS}
    return UptrackError(error.code, error.message, details)


@dataclass(frozen=True)
class DeliveryLimits:
    ws_bytes: int = 120_000
    event_bytes: int = 200_000
    link_expiry_s: int = 3600
    push_workers: int = 8
    segment_wait_s: float = 2.0


Build = Callable[[Reservation], Sequence[BaseMessage]]


class Delivery:
    def __init__(
        self,
        uploads: UploadStore,
        objects: ObjectStore,
        events: EventSink,
        connections: ConnectionStore,
        pusher: Pusher,
        limits: DeliveryLimits | None = None,
    ) -> None:
        self.uploads = uploads
        self.objects = objects
        self.events = events
        self.connections = connections
        self.pusher = pusher
        self.limits = limits or DeliveryLimits()

    # -- emitting -------------------------------------------------------------------------------------------------

    def emit(self, upload_id: str, stage: str, messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
        """Deliver one stage of messages (idempotent per stage)."""
        return self._emit(upload_id, stage, len(messages), lambda _: messages)

    def emit_progress(self, upload_id: str, chunk_index: int, frames: int, frames_total: int) -> list[dict[str, Any]]:
        """One `progress` message per finished chunk; the percentage counts every chunk done so far."""

        def build(reservation: Reservation) -> list[BaseMessage]:
            done = min(reservation.frames_done, frames_total)
            percent = round(100.0 * done / frames_total, 1) if frames_total else 100.0
            return [ProgressMessage(percent=percent, frames_done=done, frames_total=frames_total)]

        return self._emit(upload_id, f"progress-{chunk_index:05d}", 1, build, frames, while_open=True)

    def _emit(
        self, upload_id: str, stage: str, count: int, build: Build, frames: int = 0, while_open: bool = False
    ) -> list[dict[str, Any]]:
        if count == 0:
            return []
        reservation = self.uploads.reserve(upload_id, stage, count, frames, while_open)
        if reservation.count == 0:
            logger.info("upload already ended; stage dropped", extra={"stage": stage})
            return []
        wire = None if reservation.fresh else self._segment(upload_id, stage, wait_s=0.0)
        if wire is None:
            messages = list(build(reservation))[: reservation.count]
            wire = [wire_of(m, reservation.start + i, upload_id) for i, m in enumerate(messages)]
            self.objects.put_bytes(segment_key(upload_id, stage), encode({"messages": wire}), _JSON)
        else:
            logger.info("stage already delivered; re-sending the stored copy", extra={"stage": stage})
        self._publish(upload_id, wire)
        self.push(upload_id, reservation.subscribers | self._subscribers_now(upload_id), wire)
        metrics.add_metric(name="MessagesDelivered", unit="Count", value=len(wire))
        return wire

    def _subscribers_now(self, upload_id: str) -> frozenset[str]:
        """Who listens now that the stage is stored. A connection that subscribed after the reservation and whose
        replay ran before the store (a slow writer, past the replay's wait) is in this set, not in the reservation's:
        reading it again after storing leaves no window where a stage reaches neither the push nor the replay."""
        record = self.uploads.get(upload_id)
        return record.subscribers if record is not None else frozenset()

    def fail(self, upload_id: str, error: UptrackError, opening: Sequence[BaseMessage] = ()) -> bool:
        """Mark the upload failed and tell its subscribers, once; False when it had already completed.

        `opening` (`uptrack.pipeline.opening_messages`, from the functions that have the pose stack) is delivered
        first when this upload has not sent it yet, so a failed upload reads like `uptrack analyze`'s output.
        """
        if not self.uploads.transition(upload_id, Status.FAILED, OPEN, {"error_code": error.code.value}):
            record = self.uploads.get(upload_id)
            if record is None or record.status is not Status.FAILED:
                return False
        logger.warning("upload failed", extra={"upload_id": upload_id, "code": error.code.value})
        metrics.add_metric(name="UploadsFailed", unit="Count", value=1)
        if opening:
            self.emit(upload_id, "opening", opening)
        self.emit(upload_id, "error", [ErrorMessage.from_error(public_error(error))])
        return True

    # -- reading back ---------------------------------------------------------------------------------------------

    def _segment(self, upload_id: str, stage: str, wait_s: float) -> list[dict[str, Any]] | None:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                document = json.loads(self.objects.get_bytes(segment_key(upload_id, stage)))
            except ObjectMissingError:
                if time.monotonic() >= deadline:
                    return None
                time.sleep(0.1)  # reserved a moment ago, being written by the step that reserved it
                continue
            messages: list[dict[str, Any]] = document["messages"]
            return messages

    def stored(self, record: UploadRecord, after_seq: int = 0, wait_s: float = 0.0) -> Iterator[dict[str, Any]]:
        """Stored messages with seq > after_seq, in seq order."""
        for stage, start, count in record.stages():
            if start + count - 1 <= after_seq:
                continue
            segment = self._segment(record.upload_id, stage, wait_s)
            if segment is None:
                logger.warning("stage reserved but not stored yet", extra={"stage": stage})
                continue
            yield from (wire for wire in segment if int(wire["seq"]) > after_seq)

    # -- transport ------------------------------------------------------------------------------------------------

    def sendable(self, upload_id: str, wire: dict[str, Any], limit: int) -> bytes:
        """The frame to send: the message itself, or a `message_link` to its stored copy when it is too big."""
        data = encode(wire)
        if len(data) <= limit:
            return data
        key = large_message_key(upload_id, int(wire["seq"]))
        if self.objects.head(key) is None:
            self.objects.put_bytes(key, data, _JSON)
        link = {
            "type": LINK_TYPE,
            "messageType": wire["type"],
            "seq": wire["seq"],
            "uploadId": upload_id,
            "bytes": len(data),
            "url": self.objects.presign_get(key, self.limits.link_expiry_s),
            "expiresInS": self.limits.link_expiry_s,
        }
        if "timestampMs" in wire:
            link["timestampMs"] = wire["timestampMs"]
        return encode(link)

    def _publish(self, upload_id: str, wire: Sequence[dict[str, Any]]) -> None:
        events = [
            OutboundEvent(
                detail_type=str(message["type"]),
                detail=self.sendable(upload_id, message, self.limits.event_bytes).decode("utf-8"),
            )
            for message in wire
            if message["type"] in EVENTBRIDGE_TYPES
        ]
        if events:
            self.events.publish(events)

    def push(self, upload_id: str, connection_ids: frozenset[str], wire: Sequence[dict[str, Any]]) -> None:
        """Send in order to each connection (connections in parallel); forget the gone ones."""
        if not connection_ids or not wire:
            return
        frames = [self.sendable(upload_id, message, self.limits.ws_bytes) for message in wire]
        workers = min(self.limits.push_workers, len(connection_ids))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda connection: self.send(upload_id, connection, frames), sorted(connection_ids)))

    def send(self, upload_id: str, connection_id: str, frames: Sequence[bytes]) -> bool:
        """Post frames in order; on a gone connection delete it (never retried) and return False."""
        for frame in frames:
            if not self.pusher.post(connection_id, frame):
                self.forget(upload_id, connection_id)
                return False
        return True

    def forget(self, upload_id: str, connection_id: str) -> None:
        logger.info("connection gone; removing it", extra={"connection_id": connection_id})
        metrics.add_metric(name="ConnectionsGone", unit="Count", value=1)
        self.uploads.unsubscribe(upload_id, connection_id)
        self.connections.delete(connection_id)
