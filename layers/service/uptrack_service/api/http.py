"""The HTTP API's edge: one Powertools resolver per function (one route each), typed parameters, typed errors.

`http_app()` gives every HTTP function the same resolver: request validation on (a malformed `afterSeq` or body
field is a 400 `invalid_params`, never a silent default), and one exception handler per failure kind, so every
refusal is the contract's `error` message with its HTTP status and an unexpected exception is logged with its
traceback and answered with a generic 500 `error` (the user never sees a traceback).

The API key is read by `inbound.request_token`, the same way on every route and on the WebSocket `$connect`.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import ErrorMessage, dump_message

from uptrack_service.api.inbound import header_token, json_object, request_token
from uptrack_service.observability import logger

HTTP_STATUS: Final = {
    ErrorCode.MISSING_TOKEN: 401,
    ErrorCode.INVALID_TOKEN: 401,
    ErrorCode.DEVELOPER_FEATURES_NOT_ALLOWED: 403,
    ErrorCode.QUOTA_EXCEEDED: 429,
    ErrorCode.TOO_MANY_UPLOADS: 429,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UPLOAD_NOT_FOUND: 404,
    ErrorCode.REFERENCE_NOT_FOUND: 404,
    ErrorCode.MEDIA_TOO_LARGE: 413,
    ErrorCode.FEATURE_NOT_SUPPORTED: 501,
}
"""Statuses other than 400 (every other code is a request the client can fix)."""

JSON: Final = "application/json"
_NO_STORE: Final = {"Cache-Control": "no-store"}


def error_response(error: UptrackError, status: int | None = None) -> Response[str]:
    """The contract's `error` message, with the code's HTTP status unless `status` says otherwise."""
    return Response(
        status_code=status or HTTP_STATUS.get(error.code, 400),
        content_type=JSON,
        body=json.dumps(dump_message(ErrorMessage.from_error(error))),
        headers=_NO_STORE,
    )


def json_response(result: BaseModel, status: int = 200) -> Response[str]:
    """A result model as the API sends it: wire names, absent fields left out, never cached."""
    body = result.model_dump_json(by_alias=True, exclude_none=True)
    return Response(status_code=status, content_type=JSON, body=body, headers=_NO_STORE)


def _invalid_request(exc: RequestValidationError) -> Response[str]:
    """Which parameters were wrong (by their wire names), from Powertools' validation errors."""
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        return error_response(UptrackError(ErrorCode.INVALID_PARAMS, "The body must be JSON."))
    names = sorted({str(error["loc"][1]) for error in errors if len(error.get("loc", ())) > 1})
    in_body = all(error.get("loc", ("",))[0] == "body" for error in errors)
    message = "Invalid request body." if in_body else "Invalid request parameters."
    return error_response(UptrackError(ErrorCode.INVALID_PARAMS, message, {"params": names}))


def _undecodable(_: Exception) -> Response[str]:
    return error_response(UptrackError(ErrorCode.INVALID_PARAMS, "The body must be UTF-8 JSON."))


def _unexpected(_: Exception) -> Response[str]:
    logger.exception("unexpected failure")
    return error_response(UptrackError(ErrorCode.ANALYSIS_FAILED, "Internal error; please retry."), 500)


def _route_not_found(_: Exception) -> Response[str]:
    return error_response(UptrackError(ErrorCode.INVALID_PARAMS, "No such route."), 404)


class JsonApiResolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver for an API whose bodies are JSON whatever the Content-Type header says.

    Powertools picks a body parser by Content-Type, but clients of this API send JSON under other types (`curl -d`
    says form-urlencoded, a browser's `fetch` with a string body says text/plain); the API has always read them as
    JSON, so the header is set to JSON before the route's parameters are validated.
    """

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        headers = {
            name: value for name, value in (event.get("headers") or {}).items() if name.lower() != "content-type"
        }
        return super().resolve({**event, "headers": {**headers, "content-type": JSON}}, context)


def http_app() -> JsonApiResolver:
    """The resolver of one HTTP function: validation on, every failure a typed `error`."""
    app = JsonApiResolver(enable_validation=True, json_body_deserializer=json_object)
    app.exception_handler(UptrackError)(error_response)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler([UnicodeDecodeError, binascii.Error])(_undecodable)
    app.exception_handler(Exception)(_unexpected)
    app.not_found(_route_not_found)
    return app


def event_token(event: APIGatewayProxyEventV2) -> str | None:
    """`request_token` of an HTTP API event (every query value, repeats included, takes part)."""
    return request_token(event.headers or {}, parse_qsl(event.raw_query_string or "", keep_blank_values=True))


def analysis_query(event: APIGatewayProxyEventV2) -> str:
    """The raw PoseTracker query for `parse_query`, with a key sent in a header added as `token=` (the parser's
    repeat rule then refuses a different key in the query)."""
    raw = event.raw_query_string or ""
    token = header_token(event.headers or {})
    if token is None:
        return raw
    return f"{raw}&{urlencode({'token': token})}" if raw else urlencode({"token": token})
