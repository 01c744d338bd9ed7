"""The WebSocket events the handlers parse into (the HTTP functions use Powertools' resolver: api/http.py).

Powertools' parser models validate the envelopes; the `$connect` model is extended with the query string it lacks,
and a message's body is read as a JSON object whatever a client sends (anything else reads as an empty action,
which `subscribe` answers with a typed `error`).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from pydantic import Field
from uptrack.contract.errors import UptrackError

from uptrack_service.api.inbound import json_object


class WsConnectEvent(APIGatewayWebSocketConnectEventModel):
    query_string_parameters: dict[str, str] | None = Field(default=None, alias="queryStringParameters")


class WsDisconnectEvent(APIGatewayWebSocketDisconnectEventModel):
    pass


class WsMessageEvent(APIGatewayWebSocketMessageEventModel):
    def json_body(self) -> dict[str, Any]:
        """The frame as a JSON object; not UTF-8, not JSON, too deep or not an object reads as no action."""
        raw = self.body
        if not isinstance(raw, str | bytes | bytearray):
            return {"action": ""}
        try:
            return json_object(bytes(raw) if isinstance(raw, bytearray) else raw or "{}")
        except UptrackError:
            return {"action": ""}
