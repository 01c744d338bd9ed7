"""Event models the handlers parse into, and the HTTP mapping of results and errors.

Powertools' parser models validate the envelopes; the WebSocket `$connect` model is extended with the query
string it lacks. Errors become the contract's `error` message with an HTTP status; an unexpected exception is
logged with its traceback and answered with a generic 500 `error` (the user never sees a traceback).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Final

from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from pydantic import BaseModel, Field, ValidationError
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import ErrorMessage, dump_message

from uptrack_service.observability import logger

STATUS: Final = {
    ErrorCode.MISSING_TOKEN: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.DEVELOPER_FEATURES_NOT_ALLOWED: 403,
    ErrorCode.QUOTA_EXCEEDED: 429,
    ErrorCode.UPLOAD_NOT_FOUND: 404,
    ErrorCode.REFERENCE_NOT_FOUND: 404,
    ErrorCode.MEDIA_TOO_LARGE: 413,
    ErrorCode.FEATURE_NOT_SUPPORTED: 501,
    ErrorCode.RATE_LIMITED: 429,
}
_JSON_HEADERS: Final = {"Content-Type": "application/json", "Cache-Control": "no-store"}


class HttpEvent(APIGatewayProxyEventV2Model):
    """HTTP API (payload 2.0) event."""

    def query(self) -> str:
        return self.rawQueryString or ""

    def param(self, name: str) -> str | None:
        return (self.queryStringParameters or {}).get(name)

    def bearer(self) -> str | None:
        """`Authorization: Bearer <token>`, else the `token` query parameter (PoseTracker's way)."""
        header = {k.lower(): v for k, v in (self.headers or {}).items()}.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip() or None
        return self.param("token")

    def json_body(self) -> dict[str, Any]:
        if not self.body or not isinstance(self.body, str):
            return {}
        text = base64.b64decode(self.body).decode("utf-8") if self.isBase64Encoded else self.body
        try:
            loaded = json.loads(text)
        except ValueError:
            raise UptrackError(ErrorCode.INVALID_PARAMS, "The body must be JSON.") from None
        if not isinstance(loaded, dict):
            raise UptrackError(ErrorCode.INVALID_PARAMS, "The body must be a JSON object.")
        return loaded


class WsConnectEvent(APIGatewayWebSocketConnectEventModel):
    query_string_parameters: dict[str, str] | None = Field(default=None, alias="queryStringParameters")


class WsDisconnectEvent(APIGatewayWebSocketDisconnectEventModel):
    pass


class WsMessageEvent(APIGatewayWebSocketMessageEventModel):
    def json_body(self) -> dict[str, Any]:
        raw = self.body
        if isinstance(raw, bytes | bytearray):
            raw = raw.decode("utf-8")
        if not isinstance(raw, str):
            return {"action": ""}
        try:
            loaded = json.loads(raw or "{}")
        except ValueError:
            return {"action": ""}
        return loaded if isinstance(loaded, dict) else {"action": ""}


def error_response(error: UptrackError) -> dict[str, Any]:
    return {
        "statusCode": STATUS.get(error.code, 400),
        "headers": _JSON_HEADERS,
        "body": json.dumps(dump_message(ErrorMessage.from_error(error))),
    }


def respond(call: Callable[[], BaseModel], status: int = 200) -> dict[str, Any]:
    """Run the logic and map its result or failure to an HTTP API response."""
    try:
        result = call()
    except UptrackError as error:
        return error_response(error)
    except ValidationError as exc:
        fields = sorted({str(e["loc"][0]) for e in exc.errors() if e.get("loc")})
        return error_response(UptrackError(ErrorCode.INVALID_PARAMS, "Invalid request body.", {"params": fields}))
    except Exception:
        logger.exception("unexpected failure")
        return error_response(UptrackError(ErrorCode.ANALYSIS_FAILED, "Internal error; please retry.")) | {
            "statusCode": 500
        }
    return {
        "statusCode": status,
        "headers": _JSON_HEADERS,
        "body": result.model_dump_json(by_alias=True, exclude_none=True),
    }
