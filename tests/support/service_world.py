"""The service's logic wired to the in-memory adapters: what unit tests of the API and the pipeline run against.

Every port has its memory double (uptrack_service.adapters.memory) and tokens live in an `InMemoryTokenStore`, so
admission, metering, validation and delivery run for real, without AWS or moto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

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
from uptrack_service.delivery import Delivery
from uptrack_service.pipeline.validation import ValidationDeps
from uptrack_service.settings import ServiceSettings

NOW = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)


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
    now: datetime = NOW

    @property
    def delivery(self) -> Delivery:
        return Delivery(self.uploads, self.objects, self.events, self.connections, self.pusher)

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

    def subscription_deps(self) -> SubscriptionDeps:
        return SubscriptionDeps(self.uploads, self.connections, self.delivery, self.settings, lambda: self.now)
