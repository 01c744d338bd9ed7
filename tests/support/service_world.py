"""The service's logic wired to the in-memory adapters: what unit tests of the API and the pipeline run against.

Every port has its memory double (uptrack_service.adapters.memory) and tokens live in an `InMemoryTokenStore`, so
admission, metering, validation and delivery run for real, without AWS or moto.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from uptrack.contract.plans import Plan
from uptrack.contract.tokens import InMemoryTokenStore, hash_token, month_key, new_record
from uptrack_service.adapters.memory import (
    MemoryConnectionStore,
    MemoryObjectStore,
    MemoryUploadStore,
    RecordingEventSink,
    RecordingFetchLauncher,
    RecordingOrchestrator,
    RecordingPusher,
)
from uptrack_service.api.subscriptions import SubscriptionDeps
from uptrack_service.api.upload_service import UploadDeps, default_catalogue
from uptrack_service.delivery import Delivery, DeliveryLimits
from uptrack_service.keys import media_key
from uptrack_service.models import Connection, Status, UploadRecord
from uptrack_service.pipeline.aggregation import AggregationDeps
from uptrack_service.pipeline.validation import ValidationDeps
from uptrack_service.settings import ServiceSettings

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
UPLOAD: Final = "3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a12"


def memory_settings(**changes: object) -> ServiceSettings:
    names = {"uploads_bucket": "memory", "uploads_table": "uploads", "connections_table": "connections"}
    return ServiceSettings(**names, tokens_table="tokens", websocket_url="wss://ws.example/prod", **changes)


@dataclass
class ServiceWorld:
    settings: ServiceSettings = field(default_factory=memory_settings)
    uploads: MemoryUploadStore = field(default_factory=MemoryUploadStore)
    objects: MemoryObjectStore = field(default_factory=MemoryObjectStore)
    connections: MemoryConnectionStore = field(default_factory=MemoryConnectionStore)
    tokens: InMemoryTokenStore = field(default_factory=InMemoryTokenStore)
    fetcher: RecordingFetchLauncher = field(default_factory=RecordingFetchLauncher)
    orchestrator: RecordingOrchestrator = field(default_factory=RecordingOrchestrator)
    pusher: RecordingPusher = field(default_factory=RecordingPusher)
    events: RecordingEventSink = field(default_factory=RecordingEventSink)
    limits: DeliveryLimits = field(default_factory=DeliveryLimits)
    now: datetime = NOW

    @property
    def delivery(self) -> Delivery:
        return Delivery(self.uploads, self.objects, self.events, self.connections, self.pusher, self.limits)

    def add_upload(
        self, request: Mapping[str, Any] | None = None, upload_id: str = UPLOAD, token_hash: str = "0" * 64
    ) -> UploadRecord:
        """An upload being analysed, as validation leaves it (`request`: the stored query)."""
        record = UploadRecord(
            upload_id=upload_id, token_hash=token_hash, token_id="upt_x", request=dict(request or {}), source="video",
            object_key=media_key(upload_id), content_type="video/mp4", max_bytes=10**9, status=Status.PROCESSING,
            created_at=self.now, expires_at=0,
        )  # fmt: skip
        self.uploads.create(record)
        return record

    def connect(self, *connection_ids: str, upload_id: str = UPLOAD, subscribed: bool = False) -> None:
        """WebSocket connections to the upload; `subscribed` ones are on its live-delivery list already."""
        for connection_id in connection_ids:
            self.connections.put(
                Connection(connection_id=connection_id, upload_id=upload_id, token_id="upt_x", connected_at=self.now,
                           expires_at=0)
            )  # fmt: skip
            if subscribed:
                self.uploads.subscribe(upload_id, connection_id, 10)

    def token(self, plan: Plan = Plan.DEVELOPER, quota: int = 100) -> str:
        raw, record = new_record("tester@uptrack", plan, quota, self.now)
        self.tokens.put(record)
        return raw

    def calls(self, raw_token: str) -> int:
        """API calls metered to the token this month."""
        record = self.tokens.get(hash_token(raw_token))
        return record.usage.get(month_key(self.now), 0) if record else 0

    def upload_deps(self) -> UploadDeps:
        return UploadDeps(
            uploads=self.uploads, objects=self.objects, tokens=self.tokens, fetcher=self.fetcher,
            settings=self.settings, catalogue=default_catalogue(), now=lambda: self.now, delivery=self.delivery,
        )  # fmt: skip

    def validation_deps(self) -> ValidationDeps:
        return ValidationDeps(self.uploads, self.objects, self.orchestrator, self.delivery, self.settings)

    def aggregation_deps(self) -> AggregationDeps:
        return AggregationDeps(self.uploads, self.objects, self.delivery)

    def subscription_deps(self) -> SubscriptionDeps:
        return SubscriptionDeps(self.uploads, self.connections, self.delivery, self.settings, lambda: self.now)
