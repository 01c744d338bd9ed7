"""The local stack's fidelity fixes: `ast.parse` serialised (CPython 3.11's AST builder is not thread-safe and moto
parses with it in many threads) and moto's DynamoDB item operations made atomic (moto loses concurrent updates;
DynamoDB does not)."""

from __future__ import annotations

import ast
import gc
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Final

import pytest
from uptrack_service.adapters.dynamodb_tables import create_table
from uptrack_service.local import fidelity


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
    """Without `fidelity.atomic_dynamodb_items`, 16 threads incrementing one attribute 400 times end at 351-393; with
    only moto's backend serialised, the answers (read from the live item after the update) sometimes repeat."""
    import boto3
    from moto import mock_aws

    fidelity.atomic_dynamodb_items()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t", "k")
        client.put_item(TableName="t", Item={"k": {"S": "a"}, "n": {"N": "0"}})

        def bump(_: int) -> int:
            answer = client.update_item(
                TableName="t",
                Key={"k": {"S": "a"}},
                UpdateExpression="SET n = n + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
            return int(answer["Attributes"]["n"]["N"])

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(bump, range(400)))
        assert client.get_item(TableName="t", Key={"k": {"S": "a"}})["Item"]["n"]["N"] == "400"
        assert sorted(answers) == list(range(1, 401))  # each caller sees the value its own update made
