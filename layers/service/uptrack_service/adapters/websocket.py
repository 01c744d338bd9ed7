"""`Pusher` over the API Gateway management API (`post_to_connection`); the endpoint comes from settings."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class ManagementApiPusher:
    def __init__(self, client: Any) -> None:
        self._client = client

    def post(self, connection_id: str, data: bytes) -> bool:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            gone = exc.response.get("Error", {}).get("Code") == "GoneException"
            if gone or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410:
                return False
            raise
        return True
