"""What a request carries, read one way for every HTTP route and WebSocket event: its API key and its JSON body.

The key: `Authorization: Bearer <key>`, `x-api-key: <key>`, or the `token` query parameter under any spelling the query
parser accepts (`Token=`, `TOKEN=`: PoseTracker's apps send both). Two different keys in one request are refused
rather than one silently chosen. The body: a JSON object, or a typed `invalid_params` error (never a 500 for bytes
that are not UTF-8 or JSON nested past the parser's depth). Light on purpose: the WebSocket functions import it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from uptrack.contract.errors import ErrorCode, UptrackError

_BEARER: Final = "bearer "


def _is_token_name(name: str) -> bool:
    """`token` in any case or spelling the query parser accepts (`Token`, `TOKEN`, `to_ken`)."""
    return name.lower().replace("_", "").replace("-", "") == "token"


def header_token(headers: Mapping[str, str]) -> str | None:
    """The key sent in a header: `Authorization: Bearer <key>` or `x-api-key: <key>`."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    found = {lowered.get("x-api-key") or None}
    authorization = lowered.get("authorization", "")
    if authorization.lower().startswith(_BEARER):
        found.add(authorization[len(_BEARER) :].strip() or None)
    return _one(found - {None})


def request_token(headers: Mapping[str, str], query: Iterable[tuple[str, str]]) -> str | None:
    """The request's API key from its headers or query (see the module docstring); None when there is none."""
    found: set[str | None] = {value.strip() for name, value in query if _is_token_name(name) and value.strip()}
    return _one((found | {header_token(headers)}) - {None})


def _one(values: set[str | None]) -> str | None:
    if len(values) > 1:
        message = "token is given more than once with different values."
        raise UptrackError(ErrorCode.INVALID_PARAMS, message, {"params": ["token"]})
    return next(iter(values), None)


def json_object(text: str | bytes) -> dict[str, Any]:
    """A request body as a JSON object; anything else (not UTF-8, not JSON, nested past the parser's depth, not an
    object) is an `invalid_params` error."""
    try:
        loaded = json.loads(text)
    except UnicodeDecodeError:
        raise UptrackError(ErrorCode.INVALID_PARAMS, "The body must be UTF-8 JSON.") from None
    except RecursionError:
        raise UptrackError(ErrorCode.INVALID_PARAMS, "The body is nested too deeply.") from None
    except ValueError:
        raise UptrackError(ErrorCode.INVALID_PARAMS, "The body must be JSON.") from None
    if not isinstance(loaded, dict):
        raise UptrackError(ErrorCode.INVALID_PARAMS, "The body must be a JSON object.")
    return loaded
