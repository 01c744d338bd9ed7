"""Unit-level guards for what the bad-input corpus and the fault tests found.

* frame times of videos whose container lies about its frame rate, and of variable-frame-rate video, increase and
  are the same whether a video is decoded whole or chunk by chunk (as the Lambdas do);
* the aggregator turns a missing chunk into a typed error instead of a crash;
* a subscriber that arrives while a stage is being stored gets it (push and replay leave no window);
* the local stack serialises `ast.parse` (CPython 3.11's AST builder is not thread-safe) and moto's DynamoDB item
  operations (moto loses concurrent updates; DynamoDB does not).
"""

from __future__ import annotations

import ast
import gc
import json
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

import numpy as np
import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import InitializationMessage
from uptrack.media import iter_frames, probe_video
from uptrack_service.adapters.memory import (
    MemoryObjectStore,
)
from uptrack_service.api.subscriptions import subscribe
from uptrack_service.delivery import DeliveryLimits
from uptrack_service.keys import chunk_key
from uptrack_service.local import fidelity
from uptrack_service.models import ChunkItem
from uptrack_service.pipeline.aggregation import load_series

from tests.support.corpus import Media
from tests.support.service_world import UPLOAD, ServiceWorld


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("hardening"))


def _stamps(path: Path, start: int = 0, stop: int | None = None) -> dict[int, float]:
    return {frame.index: frame.timestamp_ms for frame in iter_frames(path, start, stop)}


def _chunked(path: Path, frames: int, size: int = 60, warmup: int = 6) -> dict[int, float]:
    stamps: dict[int, float] = {}
    for start in range(0, frames, size):
        stamps |= {i: t for i, t in _stamps(path, max(0, start - warmup), start + size).items() if i >= start}
    return stamps


@pytest.mark.parametrize("case", ["fps_zero", "fps_absurd", "variable_frame_rate"])
def test_frame_times_increase_span_the_clip_and_do_not_depend_on_chunking(media: Media, case: str) -> None:
    path: Path = getattr(media, case)()
    info = probe_video(path)
    whole = _stamps(path)
    times = np.array([whole[i] for i in sorted(whole)])
    assert len(whole) == info.frame_count
    assert np.all(np.diff(times) > 0)
    assert times[-1] == pytest.approx(7066, abs=40)  # the sample lasts 7.1 s whatever the container says
    assert _chunked(path, info.frame_count) == whole


def test_a_container_claiming_15360_fps_is_timed_at_the_default_rate(media: Media) -> None:
    path = media.fps_absurd()
    times = list(_stamps(path, 0, 10).values())
    assert times == pytest.approx([i * 1000 / 30 for i in range(10)])


def test_a_missing_chunk_is_a_typed_analysis_failure() -> None:
    objects = MemoryObjectStore()
    items = [ChunkItem(index=i, start=60 * i, stop=60 * (i + 1), key=chunk_key(UPLOAD, i)) for i in range(2)]
    with pytest.raises(UptrackError) as raised:
        load_series(objects, items)
    assert raised.value.code is ErrorCode.ANALYSIS_FAILED


class _Finalised:
    """An object whose finaliser runs Python code: garbage collection inside `ast.parse` switches threads."""

    def __del__(self) -> None:
        sum(range(50))


_NESTED: Final = {"a": [(1, 2, {"b": [3, [4, [5, [6, (7, 8)]]]]})] * 50}


def _parse_while_collecting(_: int) -> list[object]:
    """Parse the same literal 20 times while the collector runs finalisers; return what each parse gave."""
    parsed = []
    for _ in range(20):
        junk: list[object] = [_Finalised() for _ in range(50)]
        junk.append(junk)  # a cycle: only the collector frees it
        del junk
        parsed.append(ast.literal_eval(repr(_NESTED)))
    return parsed


@pytest.fixture
def busy_interpreter() -> Iterator[None]:
    threshold, interval = gc.get_threshold(), sys.getswitchinterval()
    gc.set_threshold(50, 5, 5)
    sys.setswitchinterval(1e-4)
    yield
    gc.set_threshold(*threshold)
    sys.setswitchinterval(interval)


def test_the_local_stack_parses_one_ast_at_a_time(busy_interpreter: None) -> None:
    fidelity.serialise_ast_parse()
    fidelity.serialise_ast_parse()
    assert not hasattr(ast.parse.__wrapped__, "__wrapped__"), "a second call must not wrap the lock twice"
    for _ in range(2):  # without the lock, CPython 3.11 raises SystemError in every round (10 of 10 measured)
        with ThreadPoolExecutor(4) as pool:
            results = [value for parsed in pool.map(_parse_while_collecting, range(8)) for value in parsed]
        assert len(results) == 8 * 20
        assert all(value == _NESTED for value in results)


def test_the_local_stack_makes_moto_dynamodb_updates_atomic(busy_interpreter: None) -> None:
    """Without `fidelity.atomic_dynamodb_items`, 16 threads incrementing one attribute 400 times end at 351-393."""
    import boto3
    from moto import mock_aws

    fidelity.atomic_dynamodb_items()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="t", Item={"k": {"S": "a"}, "n": {"N": "0"}})

        def bump(_: int) -> None:
            client.update_item(
                TableName="t",
                Key={"k": {"S": "a"}},
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(bump, range(400)))
        assert client.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]["n"]["N"] == "400"


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
