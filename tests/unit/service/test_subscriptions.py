"""A `subscribe` replays the stored stream once per connection (from its `afterSeq`), and a connection gets a
bounded number of subscribes: one 40-byte frame used to return the whole stream every time it was sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from uptrack.contract.messages import InitializationMessage
from uptrack_service.adapters.memory import (
    MemoryConnectionStore,
    MemoryObjectStore,
    MemoryUploadStore,
    RecordingEventSink,
    RecordingPusher,
)
from uptrack_service.api.subscriptions import SubscriptionDeps, subscribe
from uptrack_service.delivery import Delivery, DeliveryLimits
from uptrack_service.models import Connection, Status, UploadRecord
from uptrack_service.settings import ServiceSettings

UPLOAD = "3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a12"
STORED = 6


@pytest.fixture
def world() -> tuple[SubscriptionDeps, RecordingPusher]:
    uploads, objects, connections, pusher = (
        MemoryUploadStore(), MemoryObjectStore(), MemoryConnectionStore(), RecordingPusher(),
    )  # fmt: skip
    now = datetime.now(UTC)
    uploads.create(
        UploadRecord(
            upload_id=UPLOAD, token_hash="0" * 64, token_id="upt_x", request={}, source="video",
            object_key=f"media/{UPLOAD}/source", content_type="video/mp4", max_bytes=10, status=Status.PROCESSING,
            created_at=now, expires_at=0,
        )
    )  # fmt: skip
    connections.put(Connection(connection_id="c1", upload_id=UPLOAD, token_id="upt_x", connected_at=now, expires_at=0))
    delivery = Delivery(uploads, objects, RecordingEventSink(), connections, pusher, DeliveryLimits(segment_wait_s=0))
    delivery.emit(UPLOAD, "opening", [InitializationMessage(message="loading video")] * STORED)
    settings = ServiceSettings(
        uploads_bucket="b-x", uploads_table="t-u", connections_table="t-c", tokens_table="t-t",
        max_subscribes_per_connection=3,
    )  # fmt: skip
    return SubscriptionDeps(uploads, connections, delivery, settings, lambda: now), pusher


def test_a_repeated_subscribe_does_not_replay_the_stream_again(world: tuple[SubscriptionDeps, RecordingPusher]) -> None:
    deps, pusher = world
    assert subscribe("c1", {"action": "subscribe"}, deps) == STORED
    assert subscribe("c1", {"action": "subscribe"}, deps) == 0
    assert len(pusher.frames["c1"]) == STORED


def test_the_first_subscribe_replays_from_its_after_seq_and_a_later_one_nothing(
    world: tuple[SubscriptionDeps, RecordingPusher],
) -> None:
    deps, pusher = world
    assert subscribe("c1", {"action": "subscribe", "afterSeq": 4}, deps) == STORED - 4
    assert subscribe("c1", {"action": "subscribe", "afterSeq": 0}, deps) == 0
    assert [json.loads(f)["seq"] for f in pusher.frames["c1"]] == [5, 6]


def test_subscribes_past_the_limit_are_told_once_then_ignored(world: tuple[SubscriptionDeps, RecordingPusher]) -> None:
    deps, pusher = world
    replayed = [subscribe("c1", {"action": "subscribe", "afterSeq": 0}, deps) for _ in range(6)]
    assert replayed == [STORED, 0, 0, 0, 0, 0]
    errors = [json.loads(f) for f in pusher.frames["c1"] if json.loads(f)["type"] == "error"]
    assert [(e["code"], e["details"]["limit"]) for e in errors] == [("rate_limited", 3)]


def test_a_subscribe_from_a_gone_connection_counts_nothing(world: tuple[SubscriptionDeps, RecordingPusher]) -> None:
    deps, pusher = world
    assert subscribe("gone", {"action": "subscribe"}, deps) == 0
    assert "gone" not in pusher.frames
