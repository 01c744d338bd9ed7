"""Delivery: per-upload seq, idempotent stages, gone connections, big messages, what goes to EventBridge."""

from __future__ import annotations

import json

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import (
    CounterMessage,
    InitializationMessage,
    KeypointsBatchMessage,
    KeypointsFrame,
    KeypointsMessage,
)
from uptrack_service.adapters.memory import (
    MemoryUploadStore,
    RecordingEventSink,
    RecordingPusher,
)
from uptrack_service.delivery import LINK_TYPE, Delivery, DeliveryLimits
from uptrack_service.models import Status

from tests.support.service_world import UPLOAD, ServiceWorld


def _world(gone: tuple[str, ...] = ()) -> tuple[Delivery, MemoryUploadStore, RecordingPusher, RecordingEventSink]:
    world = ServiceWorld(pusher=RecordingPusher(gone=gone), limits=DeliveryLimits(ws_bytes=2000))
    world.add_upload()
    world.connect("alive", *gone, subscribed=True)
    return world.delivery, world.uploads, world.pusher, world.events


def test_stages_get_consecutive_seqs_and_a_retried_stage_resends_the_same_ones() -> None:
    delivery, _, pusher, _ = _world()
    first = delivery.emit(UPLOAD, "opening", [InitializationMessage(message="loading video")] * 2)
    second = delivery.emit(UPLOAD, "final", [CounterMessage(current_count=1)])
    retried = delivery.emit(UPLOAD, "opening", [InitializationMessage(message="something else")] * 2)
    assert [m["seq"] for m in first + second] == [1, 2, 3]
    assert retried == first  # the stored copy, not the new content
    seqs = [json.loads(frame)["seq"] for frame in pusher.frames["alive"]]
    assert seqs == [1, 2, 3, 1, 2]  # clients drop the repeats by seq
    assert all(json.loads(frame)["uploadId"] == UPLOAD for frame in pusher.frames["alive"])


def test_a_gone_connection_is_deleted_and_never_retried() -> None:
    delivery, uploads, pusher, _ = _world(gone=("gone",))
    delivery.emit(UPLOAD, "a", [CounterMessage(current_count=1), CounterMessage(current_count=2)])
    delivery.emit(UPLOAD, "b", [CounterMessage(current_count=3)])
    assert pusher.attempts["gone"] == 1
    record = uploads.get(UPLOAD)
    assert record is not None and record.subscribers == frozenset({"alive"})
    assert delivery.connections.get("gone") is None
    assert len(pusher.frames["alive"]) == 3


def test_big_messages_travel_as_links_and_per_frame_ones_stay_off_eventbridge() -> None:
    delivery, _, pusher, events = _world()
    point = {"name": "nose", "x": 0.5, "y": 0.5, "score": 0.9}
    frames = [KeypointsFrame.model_validate({"timestampMs": i, "frameId": i, "keypoints": [point]}) for i in range(60)]
    delivery.emit(
        UPLOAD,
        "final",
        [KeypointsMessage.of([]), KeypointsBatchMessage(data=frames), CounterMessage(current_count=1, final=True)],
    )
    sent = [json.loads(frame) for frame in pusher.frames["alive"]]
    assert [m["type"] for m in sent] == ["keypoints", LINK_TYPE, "counter"]
    assert sent[1]["messageType"] == "keypoints_batch" and sent[1]["seq"] == 2
    assert [e.detail_type for e in events.events] == ["counter"]


def test_fail_is_idempotent_and_never_after_completion() -> None:
    delivery, uploads, pusher, _ = _world()
    error = UptrackError(ErrorCode.MEDIA_DECODE_ERROR, "bad", {"path": "/tmp/secret", "frame": 3})
    assert delivery.fail(UPLOAD, error, [InitializationMessage(message="loading video")])
    assert delivery.fail(UPLOAD, UptrackError(ErrorCode.ANALYSIS_FAILED, "other"))
    messages = [json.loads(frame) for frame in pusher.frames["alive"]]
    assert [(m["type"], m["seq"]) for m in messages] == [("initialization", 1), ("error", 2), ("error", 2)]
    assert messages[1]["code"] == messages[2]["code"] == "media_decode_error"
    assert messages[1]["details"] == {"frame": 3}
    uploads.transition(UPLOAD, Status.COMPLETED, (Status.FAILED,))
    assert not delivery.fail(UPLOAD, error)


def test_stored_replays_in_seq_order_after_a_given_seq() -> None:
    delivery, uploads, _, _ = _world()
    for stage in ("a", "b", "c"):
        delivery.emit(UPLOAD, stage, [CounterMessage(current_count=1), CounterMessage(current_count=2)])
    record = uploads.get(UPLOAD)
    assert record is not None
    assert [m["seq"] for m in delivery.stored(record)] == [1, 2, 3, 4, 5, 6]
    assert [m["seq"] for m in delivery.stored(record, after_seq=3)] == [4, 5, 6]


def test_a_progress_after_the_error_is_dropped_and_one_before_it_is_resent() -> None:
    delivery, uploads, pusher, _ = _world()
    delivery.emit_progress(UPLOAD, 0, 90, 213)
    assert delivery.fail(UPLOAD, UptrackError(ErrorCode.ANALYSIS_FAILED, "chunk 1 kept failing"))
    assert delivery.emit_progress(UPLOAD, 2, 33, 213) == []  # a sibling chunk that finished after the failure
    resent = delivery.emit_progress(UPLOAD, 0, 90, 213)  # chunk 0's retried delivery keeps its seq
    messages = [json.loads(frame) for frame in pusher.frames["alive"]]
    assert [(m["type"], m["seq"]) for m in messages] == [("progress", 1), ("error", 2), ("progress", 1)]
    assert [m["seq"] for m in resent] == [1]
    record = uploads.get(UPLOAD)
    assert record is not None and record.next_seq == 3 and record.frames_done == 90
