"""`EventSink` over EventBridge: source `uptrack`, detail-type = message type, batches of 10, failed entries retried."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from uptrack_service.ports import OutboundEvent

SOURCE: Final = "uptrack"
BATCH: Final = 10
ATTEMPTS: Final = 3


class EventPublishError(RuntimeError):
    """Some events were still refused after retries (the Lambda fails and its retry re-sends the same seqs)."""


class EventBridgeSink:
    def __init__(self, client: Any, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def _entry(self, event: OutboundEvent) -> dict[str, Any]:
        return {
            "Source": SOURCE,
            "DetailType": event.detail_type,
            "Detail": event.detail,
            "EventBusName": self._bus,
            "Resources": list(event.resources),
        }

    def publish(self, events: Sequence[OutboundEvent]) -> None:
        for first in range(0, len(events), BATCH):
            pending = [self._entry(event) for event in events[first : first + BATCH]]
            for _ in range(ATTEMPTS):
                response = self._client.put_events(Entries=pending)
                if not response.get("FailedEntryCount"):
                    break
                pending = [
                    entry
                    for entry, result in zip(pending, response.get("Entries", []), strict=False)
                    if result.get("ErrorCode")
                ]
            else:
                raise EventPublishError(f"{len(pending)} events refused by EventBridge")
