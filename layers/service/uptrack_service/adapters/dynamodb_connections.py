"""`ConnectionStore` over DynamoDB: one item per WebSocket connection, expiring with API Gateway's 2-hour cap."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from uptrack_service.models import Connection

KEY: Final = "connection_id"


def _from_item(item: dict[str, Any]) -> Connection:
    return Connection(
        connection_id=item[KEY]["S"],
        upload_id=item["upload_id"]["S"],
        token_id=item["token_id"]["S"],
        connected_at=datetime.fromisoformat(item["connected_at"]["S"]),
        expires_at=int(item["expires_at"]["N"]),
    )


class DynamoDbConnectionStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, connection: Connection) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                KEY: {"S": connection.connection_id},
                "upload_id": {"S": connection.upload_id},
                "token_id": {"S": connection.token_id},
                "connected_at": {"S": connection.connected_at.isoformat()},
                "expires_at": {"N": str(connection.expires_at)},
            },
        )

    def get(self, connection_id: str) -> Connection | None:
        response = self._client.get_item(TableName=self._table, Key={KEY: {"S": connection_id}}, ConsistentRead=True)
        return _from_item(response["Item"]) if "Item" in response else None

    def count_subscribe(self, connection_id: str) -> int:
        """One conditional UpdateItem (the connection must exist): concurrent subscribes each get their own count."""
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key={KEY: {"S": connection_id}},
                UpdateExpression="SET subscribes = if_not_exists(subscribes, :zero) + :one",
                ConditionExpression=f"attribute_exists({KEY})",
                ExpressionAttributeValues={":zero": {"N": "0"}, ":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return 0
        return int(response["Attributes"]["subscribes"]["N"])

    def delete(self, connection_id: str) -> Connection | None:
        response = self._client.delete_item(
            TableName=self._table, Key={KEY: {"S": connection_id}}, ReturnValues="ALL_OLD"
        )
        return _from_item(response["Attributes"]) if "Attributes" in response else None
