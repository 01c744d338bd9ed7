"""DynamoDbTokenStore on moto: same behaviour as the in-memory store, atomic conditional usage increments."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import AnalysisRequest
from uptrack.contract.plans import Plan
from uptrack.contract.tokens import authorize, hash_token, new_record
from uptrack_service.adapters.dynamodb_tables import create_table
from uptrack_service.adapters.dynamodb_tokens import KEY, DynamoDbTokenStore
from uptrack_service.local import fidelity

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
TABLE = "uptrack-tokens"


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    fidelity.atomic_dynamodb_items()  # DynamoDB applies one item write at a time; moto's threads do not
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(dynamodb, TABLE, KEY)
        yield dynamodb


@pytest.fixture
def store(client: Any) -> DynamoDbTokenStore:
    return DynamoDbTokenStore(client, TABLE)


def mint(store: DynamoDbTokenStore, plan: Plan = Plan.FREE, quota: int = 500, owner: str = "ana") -> str:
    raw, record = new_record(owner, plan, quota, NOW)
    store.put(record)
    return raw


def test_put_get_round_trip_keyed_by_hash(store: DynamoDbTokenStore, client: Any) -> None:
    raw, record = new_record("ana", Plan.BUSINESS, 42, NOW)
    store.put(record.model_copy(update={"usage": {"2026-02": 9}}))
    assert store.get(hash_token(raw)) == record.model_copy(update={"usage": {"2026-02": 9}})
    item = client.get_item(TableName=TABLE, Key={"token_hash": {"S": hash_token(raw)}})["Item"]
    assert raw not in str(item)


def test_unknown_token(store: DynamoDbTokenStore) -> None:
    assert store.get(hash_token("nope")) is None
    assert store.revoke(hash_token("nope")) is False
    with pytest.raises(UptrackError) as caught:
        store.increment_usage(hash_token("nope"), "2026-03", 10)
    assert caught.value.code is ErrorCode.INVALID_TOKEN


def test_revoke(store: DynamoDbTokenStore) -> None:
    raw = mint(store)
    assert store.revoke(hash_token(raw)) is True
    record = store.get(hash_token(raw))
    assert record is not None and record.revoked
    with pytest.raises(UptrackError) as caught:
        store.increment_usage(hash_token(raw), "2026-03", 10)
    assert caught.value.code is ErrorCode.INVALID_TOKEN


def test_list_tokens_by_owner(store: DynamoDbTokenStore) -> None:
    mint(store, owner="a")
    mint(store, owner="b")
    assert {r.owner for r in store.list_tokens()} == {"a", "b"}
    assert [r.owner for r in store.list_tokens("b")] == ["b"]


def test_increment_counts_per_month_until_quota(store: DynamoDbTokenStore) -> None:
    raw = mint(store, quota=2)
    token_hash = hash_token(raw)
    assert [store.increment_usage(token_hash, "2026-03", 2) for _ in range(2)] == [1, 2]
    with pytest.raises(UptrackError) as caught:
        store.increment_usage(token_hash, "2026-03", 2)
    assert caught.value.code is ErrorCode.QUOTA_EXCEEDED and caught.value.details == {"quota": 2, "month": "2026-03"}
    assert store.increment_usage(token_hash, "2026-04", 2) == 1
    record = store.get(token_hash)
    assert record is not None and record.usage == {"2026-03": 2, "2026-04": 1}


def test_increment_is_atomic_under_concurrency(store: DynamoDbTokenStore) -> None:
    token_hash = hash_token(mint(store, quota=10))
    granted: list[int] = []
    refused: list[ErrorCode] = []

    def call() -> None:
        try:
            granted.append(store.increment_usage(token_hash, "2026-03", 10))
        except UptrackError as error:
            refused.append(error.code)

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(granted) == list(range(1, 11)) and refused == [ErrorCode.QUOTA_EXCEEDED] * 6


def test_authorize_against_dynamodb(store: DynamoDbTokenStore) -> None:
    free = mint(store)
    with pytest.raises(UptrackError) as caught:
        authorize(free, AnalysisRequest(exercise="squat", export=True), store, NOW)
    assert caught.value.code is ErrorCode.DEVELOPER_FEATURES_NOT_ALLOWED and caught.value.details == {
        "blocked": ["export"]
    }
    assert authorize(free, AnalysisRequest(exercise="squat"), store, NOW).usage == {"2026-03": 1}


def test_in_flight_slots_are_claimed_up_to_the_limit_and_released(store: DynamoDbTokenStore) -> None:
    """One conditional write per claim (the atomicity is DynamoDB's; moto's own locking is not, so no threads)."""
    token_hash = hash_token(mint(store))
    claimed = [f"upload-{i}@0" for i in range(8) if store.claim_slot(token_hash, f"upload-{i}@0", 5)]
    held = store.get(token_hash)
    assert len(claimed) == 5 and held is not None and held.in_flight == frozenset(claimed)
    store.release_slots(token_hash, [*claimed[:2], "never-held"])
    assert [store.claim_slot(token_hash, f"again-{i}@0", 5) for i in range(3)] == [True, True, False]
    store.put(held)  # replacing the record keeps its slots
    assert store.get(token_hash) == held
    store.revoke(token_hash)
    with pytest.raises(UptrackError) as caught:
        store.claim_slot(token_hash, "upload-z@0", 5)
    assert caught.value.code is ErrorCode.INVALID_TOKEN
    store.release_slots(hash_token("nope"), ["a@0"])
    assert store.get(hash_token("nope")) is None  # releasing on an unknown token creates nothing
