"""Creating our tables where the SAM template does not: the local stack and tests."""

from __future__ import annotations

from typing import Any


def create_table(client: Any, table_name: str, key: str) -> None:
    """An on-demand table keyed by one string attribute, as template.yaml declares each of ours."""
    client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
