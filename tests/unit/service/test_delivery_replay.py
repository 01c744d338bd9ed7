"""Delivery and replay together: a subscriber arriving while a stage is being stored still gets it (push and replay
leave no window)."""

from __future__ import annotations

import json
from collections.abc import Callable

from uptrack.contract.messages import InitializationMessage
from uptrack_service.adapters.memory import (
    MemoryObjectStore,
)
from uptrack_service.api.subscriptions import subscribe
from uptrack_service.delivery import DeliveryLimits

from tests.support.service_world import UPLOAD, ServiceWorld


class _SlowSegmentStore(MemoryObjectStore):
    """Runs `during()` just before the first message segment is stored: between a stage's reservation and store."""

    def __init__(self) -> None:
        super().__init__()
        self.during: Callable[[], object] | None = None

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        if self.during is not None and key.startswith("messages/") and "/large/" not in key:
            during, self.during = self.during, None
            during()
        super().put_bytes(key, data, content_type)


def test_a_subscriber_arriving_between_reservation_and_store_still_gets_the_stage() -> None:
    """The replay waits for a reserved stage's segment only so long; a writer slower than that used to push to the
    reservation's subscribers only, so the newcomer got the stage from neither the push nor the replay."""
    world = ServiceWorld(objects=_SlowSegmentStore(), limits=DeliveryLimits(segment_wait_s=0))
    world.add_upload()
    world.connect("late")
    objects, pusher, delivery, deps = world.objects, world.pusher, world.delivery, world.subscription_deps()
    replayed: list[int] = []
    objects.during = lambda: replayed.append(subscribe("late", {"action": "subscribe"}, deps))

    delivery.emit(UPLOAD, "opening", [InitializationMessage(message="loading video")] * 2)

    assert replayed == [0]  # the segment was not stored yet when the newcomer's replay ran
    assert [json.loads(frame)["seq"] for frame in pusher.frames["late"]] == [1, 2]
