"""DynamoDB implementation of `TokenStore`: one item per token, keyed by `token_hash`.

Usage lives in a map attribute (`usage: {"YYYY-MM": N}`) and is incremented by one conditional UpdateItem, so the
quota check and the increment are a single atomic write even with many concurrent Lambdas. Uploads in flight are a
string set (`in_flight`) grown by a conditional `ADD` while its `size()` is below the limit: one atomic write too.
`list_tokens` scans: token tables are small (one row per API key) and listing is an admin action.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.plans import Plan
from uptrack.contract.tokens import QUOTA_MESSAGE, TokenRecord

from uptrack_service.adapters.dynamodb_conditions import condition_failed, update_if

KEY: Final = "token_hash"


def _to_item(record: TokenRecord) -> dict[str, Any]:
    return {
        KEY: {"S": record.token_hash},
        "token_id": {"S": record.token_id},
        "owner": {"S": record.owner},
        "plan": {"S": record.plan.value},
        "monthly_quota": {"N": str(record.monthly_quota)},
        "usage": {"M": {month: {"N": str(count)} for month, count in record.usage.items()}},
        "revoked": {"BOOL": record.revoked},
        "created_at": {"S": record.created_at.isoformat()},
    } | ({"in_flight": {"SS": sorted(record.in_flight)}} if record.in_flight else {})


def _from_item(item: dict[str, Any]) -> TokenRecord:
    return TokenRecord(
        token_hash=item[KEY]["S"],
        token_id=item["token_id"]["S"],
        owner=item["owner"]["S"],
        plan=Plan(item["plan"]["S"]),
        monthly_quota=int(item["monthly_quota"]["N"]),
        usage={month: int(value["N"]) for month, value in item.get("usage", {"M": {}})["M"].items()},
        revoked=item.get("revoked", {"BOOL": False})["BOOL"],
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        in_flight=frozenset(item.get("in_flight", {"SS": []})["SS"]),
    )


class DynamoDbTokenStore:
    """`TokenStore` over a DynamoDB table; the boto3 client is injected so tests and regions stay the caller's."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, record: TokenRecord) -> None:
        self._client.put_item(TableName=self._table, Item=_to_item(record))

    def get(self, token_hash: str) -> TokenRecord | None:
        response = self._client.get_item(TableName=self._table, Key={KEY: {"S": token_hash}}, ConsistentRead=True)
        return _from_item(response["Item"]) if "Item" in response else None

    def revoke(self, token_hash: str) -> bool:
        return self._update_existing(token_hash, "SET revoked = :true", {":true": {"BOOL": True}})

    def list_tokens(self, owner: str | None = None) -> list[TokenRecord]:
        scan: dict[str, Any] = {"TableName": self._table}
        if owner is not None:
            scan |= {
                "FilterExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":owner": {"S": owner}},
            }
        records: list[TokenRecord] = []
        for page in self._client.get_paginator("scan").paginate(**scan):
            records.extend(_from_item(item) for item in page.get("Items", []))
        return sorted(records, key=lambda r: r.created_at)

    def increment_usage(self, token_hash: str, month: str, quota: int) -> int:
        """One conditional UpdateItem: exists, not revoked, and this month's count below `quota`."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={KEY: {"S": token_hash}},
                UpdateExpression="SET #usage.#month = if_not_exists(#usage.#month, :zero) + :one",
                ConditionExpression=(
                    f"attribute_exists({KEY}) AND revoked = :false"
                    " AND (attribute_not_exists(#usage.#month) OR #usage.#month < :quota)"
                ),
                ExpressionAttributeNames={"#usage": "usage", "#month": month},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":false": {"BOOL": False},
                    ":quota": {"N": str(quota)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise self._refusal(token_hash, month, quota) from None
            raise
        return int(response["Attributes"]["usage"]["M"][month]["N"])

    def claim_slot(self, token_hash: str, slot: str, limit: int) -> bool:
        """One conditional UpdateItem: exists, not revoked, and fewer than `limit` slots held."""
        claimed = update_if(
            self._client,
            TableName=self._table,
            Key={KEY: {"S": token_hash}},
            UpdateExpression="ADD in_flight :slot",
            ConditionExpression=(
                f"attribute_exists({KEY}) AND revoked = :false"
                " AND (attribute_not_exists(in_flight) OR size(in_flight) < :limit)"
            ),
            ExpressionAttributeValues={":slot": {"SS": [slot]}, ":false": {"BOOL": False}, ":limit": {"N": str(limit)}},
        )
        if not claimed:
            record = self.get(token_hash)
            if record is None or record.revoked:
                raise UptrackError(ErrorCode.INVALID_TOKEN, "Invalid or revoked token.")
        return claimed

    def release_slots(self, token_hash: str, slots: Iterable[str]) -> None:
        gone = sorted(set(slots))
        if not gone:
            return
        self._update_existing(token_hash, "DELETE in_flight :gone", {":gone": {"SS": gone}})

    def _update_existing(self, token_hash: str, expression: str, values: dict[str, Any]) -> bool:
        """Update a token's item only if it exists: an update must never bring a deleted token back as a key-only
        item. False when there was no such token."""
        return update_if(
            self._client,
            TableName=self._table,
            Key={KEY: {"S": token_hash}},
            UpdateExpression=expression,
            ConditionExpression=f"attribute_exists({KEY})",
            ExpressionAttributeValues=values,
        )

    def _refusal(self, token_hash: str, month: str, quota: int) -> UptrackError:
        """Tell apart why the conditional write failed: a missing/revoked token or a spent quota."""
        record = self.get(token_hash)
        if record is None or record.revoked:
            return UptrackError(ErrorCode.INVALID_TOKEN, "Invalid or revoked token.")
        return UptrackError(ErrorCode.QUOTA_EXCEEDED, QUOTA_MESSAGE, {"quota": quota, "month": month})
