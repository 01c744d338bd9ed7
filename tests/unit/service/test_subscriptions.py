"""A `subscribe` replays the stored stream once per connection (from its `afterSeq`), and a connection gets a
bounded number of subscribes: one 40-byte frame used to return the whole stream every time it was sent."""

from __future__ import annotations

import json

import pytest
from uptrack.contract.messages import InitializationMessage
from uptrack_service.adapters.memory import (
    RecordingPusher,
)
from uptrack_service.api.subscriptions import SubscriptionDeps, subscribe
from uptrack_service.delivery import DeliveryLimits

from tests.support.service_world import UPLOAD, ServiceWorld, memory_settings

STORED = 6


@pytest.fixture
def world() -> tuple[SubscriptionDeps, RecordingPusher]:
    world = ServiceWorld(
        settings=memory_settings(max_subscribes_per_connection=3), limits=DeliveryLimits(segment_wait_s=0)
    )
    world.add_upload()
    world.connect("c1")
    world.delivery.emit(UPLOAD, "opening", [InitializationMessage(message="loading video")] * STORED)
    return world.subscription_deps(), world.pusher


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
