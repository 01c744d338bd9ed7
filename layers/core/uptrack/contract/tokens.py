"""API tokens (contract §7): stored hashed with owner, plan, monthly quota and usage; one upload is one call.

The raw token exists only in the creator's hands: stores keep its SHA-256 and a short display prefix. Stores are
behind the `TokenStore` protocol so the Lambdas use DynamoDB (uptrack_service.adapters.dynamodb_tokens) while the
CLI and the embedded local stack use `JsonFileTokenStore`, and tests use `InMemoryTokenStore`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import AnalysisRequest
from uptrack.contract.plans import Plan, blocked_features
from uptrack.files import write_text_atomic

TOKEN_PREFIX: Final = "upt_"
TOKEN_ID_CHARS: Final = 12
"""Length of the display id: `upt_` plus 8 random characters, enough to tell tokens apart, useless to attackers."""

DEVELOPER_FEATURES_MESSAGE: Final = "You cannot use developer features on your current plan."
QUOTA_MESSAGE: Final = "API call quota exceeded for the current plan."

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class TokenRecord(BaseModel):
    """What a store keeps about one token; never the raw token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    token_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    token_id: str
    owner: Annotated[str, Field(min_length=1, max_length=200)]
    plan: Plan
    monthly_quota: Annotated[int, Field(ge=0)]
    usage: dict[Month, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    revoked: bool = False
    created_at: AwareDatetime
    in_flight: frozenset[str] = frozenset()
    """Slots of the uploads this token has in flight (`claim_slot`); their meaning is the service's."""


def hash_token(raw_token: str) -> str:
    """SHA-256 hex: tokens are 256-bit random, so a fast unsalted hash is enough to make a leaked store useless."""
    return hashlib.sha256(raw_token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh raw token (`upt_` + 43 URL-safe characters, 256 bits); matches the query's token syntax."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_id(raw_token: str) -> str:
    """The non-secret display prefix of a token."""
    return raw_token[:TOKEN_ID_CHARS]


def month_key(now: datetime) -> str:
    """Usage bucket of an instant, in UTC so every region meters the same calendar month."""
    return now.astimezone(UTC).strftime("%Y-%m")


def new_record(owner: str, plan: Plan, monthly_quota: int, now: datetime) -> tuple[str, TokenRecord]:
    """Mint a token: the raw value (show once) and the record to store."""
    raw = new_token()
    record = TokenRecord(
        token_hash=hash_token(raw), token_id=token_id(raw), owner=owner, plan=plan,
        monthly_quota=monthly_quota, created_at=now,
    )  # fmt: skip
    return raw, record


class TokenStore(Protocol):
    """Persistence for token records. `increment_usage` must be atomic: it is the quota's only guard."""

    def put(self, record: TokenRecord) -> None:
        """Create or replace the record keyed by its hash."""

    def get(self, token_hash: str) -> TokenRecord | None:
        """The record, or None when no token has that hash."""

    def revoke(self, token_hash: str) -> bool:
        """Mark revoked; False when no such token."""

    def list_tokens(self, owner: str | None = None) -> list[TokenRecord]:
        """Every record, or one owner's, oldest first."""

    def increment_usage(self, token_hash: str, month: str, quota: int) -> int:
        """Count one call in `month` and return the new count.

        Raises UptrackError quota_exceeded (nothing counted) when the count already reached `quota`, and
        invalid_token when the token is unknown or revoked.
        """

    def claim_slot(self, token_hash: str, slot: str, limit: int) -> bool:
        """Add `slot` to the token's in-flight set only while it holds fewer than `limit`, atomically; False when
        full. Raises UptrackError invalid_token when the token is unknown or revoked."""

    def release_slots(self, token_hash: str, slots: Iterable[str]) -> None:
        """Remove these slots from the token's in-flight set (absent ones are ignored)."""


def _bump(records: dict[str, TokenRecord], token_hash: str, month: str, quota: int) -> int:
    """The increment rule shared by the dict-backed stores (callers hold their lock)."""
    record = records.get(token_hash)
    if record is None or record.revoked:
        raise UptrackError(ErrorCode.INVALID_TOKEN, "Invalid or revoked token.")
    used = record.usage.get(month, 0)
    if used >= quota:
        raise UptrackError(ErrorCode.QUOTA_EXCEEDED, QUOTA_MESSAGE, {"quota": quota, "month": month})
    records[token_hash] = record.model_copy(update={"usage": {**record.usage, month: used + 1}})
    return used + 1


def _claim(records: dict[str, TokenRecord], token_hash: str, slot: str, limit: int) -> bool:
    """The claim rule shared by the dict-backed stores (callers hold their lock)."""
    record = records.get(token_hash)
    if record is None or record.revoked:
        raise UptrackError(ErrorCode.INVALID_TOKEN, "Invalid or revoked token.")
    if len(record.in_flight) >= limit:
        return False
    records[token_hash] = record.model_copy(update={"in_flight": record.in_flight | {slot}})
    return True


class InMemoryTokenStore:
    """A thread-safe store in a dict; for tests and single-process embedding."""

    def __init__(self, records: Iterable[TokenRecord] = ()) -> None:
        self._records = {r.token_hash: r for r in records}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[dict[str, TokenRecord]]:
        """Yield the records under the lock; `write` is for subclasses that persist."""
        with self._lock:
            yield self._records

    def put(self, record: TokenRecord) -> None:
        with self._transaction(write=True) as records:
            records[record.token_hash] = record

    def get(self, token_hash: str) -> TokenRecord | None:
        with self._transaction(write=False) as records:
            return records.get(token_hash)

    def revoke(self, token_hash: str) -> bool:
        with self._transaction(write=True) as records:
            record = records.get(token_hash)
            if record is not None:
                records[token_hash] = record.model_copy(update={"revoked": True})
            return record is not None

    def list_tokens(self, owner: str | None = None) -> list[TokenRecord]:
        with self._transaction(write=False) as records:
            chosen = [r for r in records.values() if owner is None or r.owner == owner]
        return sorted(chosen, key=lambda r: r.created_at)

    def increment_usage(self, token_hash: str, month: str, quota: int) -> int:
        with self._transaction(write=True) as records:
            return _bump(records, token_hash, month, quota)

    def claim_slot(self, token_hash: str, slot: str, limit: int) -> bool:
        with self._transaction(write=True) as records:
            return _claim(records, token_hash, slot, limit)

    def release_slots(self, token_hash: str, slots: Iterable[str]) -> None:
        with self._transaction(write=True) as records:
            record = records.get(token_hash)
            if record is not None:
                records[token_hash] = record.model_copy(update={"in_flight": record.in_flight - set(slots)})


class JsonFileTokenStore(InMemoryTokenStore):
    """Tokens in one JSON file (the CLI's and the local stack's default).

    Every operation re-reads the file, so a token created by the CLI is seen by a running local server; writes go
    to a temporary file renamed over the old one, so readers never see half a file. A write holds an exclusive
    lock on the file's folder from read to rename (the file itself is replaced, so it cannot carry the lock), so
    `uptrack token revoke` and a running server counting usage never overwrite each other's change.
    """

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    @contextlib.contextmanager
    def _transaction(self, write: bool) -> Iterator[dict[str, TokenRecord]]:
        with self._lock, self._across_processes(write):
            records = self._load()
            yield records
            if write:
                self._save(records)

    @contextlib.contextmanager
    def _across_processes(self, write: bool) -> Iterator[None]:
        if not write:
            yield
            return
        import fcntl  # POSIX only, like the developer machines and Lambda this store runs on

        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            yield
        finally:
            os.close(folder)

    def _load(self) -> dict[str, TokenRecord]:
        if not self.path.exists():
            return {}
        document = json.loads(self.path.read_text(encoding="utf-8"))
        return {r.token_hash: r for r in map(TokenRecord.model_validate, document.get("tokens", []))}

    def _save(self, records: dict[str, TokenRecord]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        document = {"version": 1, "tokens": [r.model_dump(mode="json") for r in records.values()]}
        write_text_atomic(self.path, json.dumps(document, indent=2, sort_keys=True))


def authorize(raw_token: str | None, request: AnalysisRequest, store: TokenStore, now: datetime) -> TokenRecord:
    """Admit one upload: token present, known and live, features allowed by its plan, quota left.

    Checks run in the order a client can fix them; plan gating happens before metering so a refused request
    costs nothing, and exactly one call is counted per successful authorisation. Returns the updated record.
    """
    return meter(admit_token(raw_token, request, store), store, now)


def admit_token(raw_token: str | None, request: AnalysisRequest, store: TokenStore) -> TokenRecord:
    """The token's record when it is present, known, live and its plan allows the request; nothing is counted."""
    if not raw_token:
        raise UptrackError(ErrorCode.MISSING_TOKEN, "Missing token=YOUR_API_KEY.")
    token_hash = hash_token(raw_token)
    record = store.get(token_hash)
    if record is None or record.revoked:
        raise UptrackError(ErrorCode.INVALID_TOKEN, "Invalid or missing token.")
    blocked = blocked_features(request, record.plan)
    if blocked:
        message = f"{DEVELOPER_FEATURES_MESSAGE} Blocked: {', '.join(blocked)}."
        raise UptrackError(ErrorCode.DEVELOPER_FEATURES_NOT_ALLOWED, message, {"blocked": blocked})
    return record


def meter(record: TokenRecord, store: TokenStore, now: datetime) -> TokenRecord:
    """Count one call on an admitted token; raises quota_exceeded (nothing counted) when the month is spent."""
    month = month_key(now)
    count = store.increment_usage(record.token_hash, month, record.monthly_quota)
    return record.model_copy(update={"usage": {**record.usage, month: count}})
