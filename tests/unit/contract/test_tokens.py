"""Tokens, stores and `authorize` (contract §7): hashing, error codes, gating before metering, quotas."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import AnalysisRequest
from uptrack.contract.plans import Plan
from uptrack.contract.tokens import (
    InMemoryTokenStore,
    JsonFileTokenStore,
    TokenStore,
    authorize,
    hash_token,
    month_key,
    new_record,
    new_token,
    token_id,
)

NOW = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
POSE_ONLY = AnalysisRequest()
GATED = AnalysisRequest(exercise="squat", keypoints=True, angles=True)


@pytest.fixture(params=["memory", "json"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TokenStore:
    if request.param == "memory":
        return InMemoryTokenStore()
    return JsonFileTokenStore(tmp_path / "home" / "tokens.json")


def mint(store: TokenStore, plan: Plan = Plan.FREE, quota: int = 500, owner: str = "ana@example.com") -> str:
    raw, record = new_record(owner, plan, quota, NOW)
    store.put(record)
    return raw


def code_of(action: Callable[[], object]) -> ErrorCode:
    with pytest.raises(UptrackError) as caught:
        action()
    return caught.value.code


def test_new_tokens_are_random_prefixed_and_query_safe() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(t.startswith("upt_") and len(t) == 47 for t in tokens)
    assert all(set(t) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") for t in tokens)


def test_hash_is_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_month_key_is_utc() -> None:
    assert month_key(NOW) == "2026-03"
    assert month_key(datetime(2026, 4, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == "2026-03"


def test_store_never_holds_the_raw_token(store: TokenStore, tmp_path: Path) -> None:
    raw = mint(store)
    record = store.get(hash_token(raw))
    assert record is not None and record.token_id == token_id(raw) == raw[:12]
    assert raw not in record.model_dump_json()
    for path in tmp_path.rglob("*"):
        assert path.is_dir() or raw not in path.read_text()


def test_get_unknown_is_none_and_revoke_unknown_is_false(store: TokenStore) -> None:
    assert store.get(hash_token("nope")) is None
    assert store.revoke(hash_token("nope")) is False


def test_list_by_owner(store: TokenStore) -> None:
    mint(store, owner="a")
    mint(store, owner="b")
    mint(store, owner="a")
    assert [r.owner for r in store.list_tokens()] == ["a", "b", "a"]
    assert len(store.list_tokens("a")) == 2 and store.list_tokens("c") == []


def test_missing_token(store: TokenStore) -> None:
    assert code_of(lambda: authorize(None, POSE_ONLY, store, NOW)) is ErrorCode.MISSING_TOKEN
    assert code_of(lambda: authorize("", POSE_ONLY, store, NOW)) is ErrorCode.MISSING_TOKEN


def test_unknown_token_is_invalid(store: TokenStore) -> None:
    assert code_of(lambda: authorize("upt_unknown", POSE_ONLY, store, NOW)) is ErrorCode.INVALID_TOKEN


def test_revoked_token_is_invalid(store: TokenStore) -> None:
    raw = mint(store, Plan.DEVELOPER)
    assert store.revoke(hash_token(raw)) is True
    assert code_of(lambda: authorize(raw, POSE_ONLY, store, NOW)) is ErrorCode.INVALID_TOKEN
    assert code_of(lambda: store.increment_usage(hash_token(raw), "2026-03", 10)) is ErrorCode.INVALID_TOKEN


def test_free_plan_gating_lists_blocked_features_and_costs_nothing(store: TokenStore) -> None:
    raw = mint(store)
    with pytest.raises(UptrackError) as caught:
        authorize(raw, GATED, store, NOW)
    assert caught.value.code is ErrorCode.DEVELOPER_FEATURES_NOT_ALLOWED
    assert caught.value.details == {"blocked": ["keypoints", "angles"]}
    assert "developer features" in caught.value.message
    record = store.get(hash_token(raw))
    assert record is not None and record.usage == {}


def test_paid_plan_passes_gating(store: TokenStore) -> None:
    assert authorize(mint(store, Plan.DEVELOPER), GATED, store, NOW).usage == {"2026-03": 1}


def test_one_successful_authorize_is_one_call(store: TokenStore) -> None:
    raw = mint(store)
    for expected in (1, 2, 3):
        assert authorize(raw, POSE_ONLY, store, NOW).usage == {"2026-03": expected}
    stored = store.get(hash_token(raw))
    assert stored is not None and stored.usage == {"2026-03": 3}


def test_quota_exceeded_and_reset_next_month(store: TokenStore) -> None:
    raw = mint(store, quota=2)
    authorize(raw, POSE_ONLY, store, NOW)
    authorize(raw, POSE_ONLY, store, NOW)
    with pytest.raises(UptrackError) as caught:
        authorize(raw, POSE_ONLY, store, NOW)
    assert caught.value.code is ErrorCode.QUOTA_EXCEEDED and caught.value.details == {"quota": 2, "month": "2026-03"}
    stored = store.get(hash_token(raw))
    assert stored is not None and stored.usage == {"2026-03": 2}
    assert authorize(raw, POSE_ONLY, store, NOW + timedelta(hours=1)).usage == {"2026-03": 2, "2026-04": 1}


def test_zero_quota_refuses_every_call(store: TokenStore) -> None:
    raw = mint(store, quota=0)
    assert code_of(lambda: authorize(raw, POSE_ONLY, store, NOW)) is ErrorCode.QUOTA_EXCEEDED


def test_increment_is_atomic_under_threads(store: TokenStore) -> None:
    raw = mint(store, quota=25)
    granted: list[int] = []
    refused: list[ErrorCode] = []

    def call() -> None:
        try:
            granted.append(store.increment_usage(hash_token(raw), "2026-03", 25))
        except UptrackError as error:
            refused.append(error.code)

    threads = [threading.Thread(target=call) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(granted) == list(range(1, 26))
    assert refused == [ErrorCode.QUOTA_EXCEEDED] * 15


def test_json_store_is_shared_between_instances_and_atomic(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    raw = mint(JsonFileTokenStore(path), Plan.BUSINESS, 7)
    other = JsonFileTokenStore(path)
    assert authorize(raw, GATED, other, NOW).plan is Plan.BUSINESS
    document = json.loads(path.read_text())
    assert document["version"] == 1 and document["tokens"][0]["usage"] == {"2026-03": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.json"]
    assert path.stat().st_mode & 0o077 == 0


def test_in_flight_slots_up_to_a_limit_and_released(store: TokenStore) -> None:
    token_hash = hash_token(mint(store))
    assert [store.claim_slot(token_hash, f"u{i}@0", 2) for i in range(3)] == [True, True, False]
    store.release_slots(token_hash, ["u0@0", "never-held"])
    assert store.claim_slot(token_hash, "u2@0", 2)
    held = store.get(token_hash)
    assert held is not None and held.in_flight == {"u1@0", "u2@0"}
    with pytest.raises(UptrackError) as caught:
        store.claim_slot(hash_token("nope"), "u@0", 2)
    assert caught.value.code is ErrorCode.INVALID_TOKEN
