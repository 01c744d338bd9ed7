"""The Lambda handlers at the API's edge, fed API Gateway events (events/*.json) over the in-memory adapters.

What the resolver and the WebSocket handlers must do whatever a client sends: typed parameters (a malformed
`afterSeq` is a 400, not a silent 0), the key from a header or the query in any case, bodies that are not UTF-8
or nest too deep answered with `invalid_params`, and never a traceback.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from uptrack_service import wiring
from uptrack_service.local.lambdas import FakeContext
from uptrack_service.observability import metrics

from tests.support.corpus import REPO
from tests.support.service_world import ServiceWorld

EXAMPLE_ID = "3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a12"
DEEP = "[" * 100_000 + "]" * 100_000
Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"edge_{name}", REPO / "functions" / name / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _event(name: str, **replace: str) -> dict[str, Any]:
    text = (REPO / "events" / f"{name}.json").read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceWorld]:
    monkeypatch.setattr(metrics, "namespace", "uptrack-test")
    built = ServiceWorld()
    monkeypatch.setattr(wiring, "upload_deps", built.upload_deps)
    monkeypatch.setattr(wiring, "subscription_deps", built.subscription_deps)
    yield built


def _handler(name: str) -> Handler:
    handler = _module(name).handler
    return lambda event: dict(handler(event, FakeContext(function_name=name)))


def _body(response: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(response["body"])
    return loaded


def _post(world: ServiceWorld, query: str, body: str | None, headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = _event("create_upload") | {"rawQueryString": query, "body": body, "headers": headers or {}}
    return _handler("create_upload")(event)


def _get(upload_id: str, query: str = "", headers: dict[str, str] | None = None) -> dict[str, Any]:
    event = _event("get_upload", **{EXAMPLE_ID: upload_id}) | {"rawQueryString": query, "headers": headers or {}}
    event["queryStringParameters"] = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair) or None
    return _handler("get_upload")(event)


def _upload(world: ServiceWorld, token: str) -> str:
    created = _post(world, f"token={token}&exercise=squat", '{"contentType": "video/mp4", "contentLength": 10}')
    assert created["statusCode"] == 201, created
    upload_id: str = _body(created)["uploadId"]
    return upload_id


def test_the_event_files_go_through_the_resolver(world: ServiceWorld) -> None:
    token = world.token()
    created = _handler("create_upload")(_event("create_upload", upt_EXAMPLE=token))
    assert created["statusCode"] == 201 and created["headers"]["Cache-Control"] == "no-store"
    upload_id = _body(created)["uploadId"]
    got = _handler("get_upload")(_event("get_upload", upt_EXAMPLE=token, **{EXAMPLE_ID: upload_id}))
    assert got["statusCode"] == 200 and _body(got)["status"] == "awaiting_upload"


@pytest.mark.parametrize("after", ["abc", "-1", "1.5", ""])
def test_a_malformed_after_seq_is_a_400_not_a_silent_zero(world: ServiceWorld, after: str) -> None:
    token = world.token()
    upload_id = _upload(world, token)
    got = _get(upload_id, f"afterSeq={after}", {"authorization": f"Bearer {token}"})
    assert got["statusCode"] == 400, got
    assert _body(got)["code"] == "invalid_params" and _body(got)["details"] == {"params": ["afterSeq"]}


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("token={token}", {}),
        ("Token={token}", {}),
        ("TOKEN={token}&afterSeq=0", {}),
        ("", {"Authorization": "Bearer {token}"}),
        ("", {"x-api-key": "{token}"}),
        ("token={token}", {"authorization": "Bearer {token}"}),
    ],
)
def test_get_takes_the_key_from_a_header_or_the_query_in_any_case(
    world: ServiceWorld, query: str, headers: dict[str, str]
) -> None:
    token = world.token()
    upload_id = _upload(world, token)
    filled = {name: value.format(token=token) for name, value in headers.items()}
    assert _get(upload_id, query.format(token=token), filled)["statusCode"] == 200


def test_two_different_keys_are_refused_and_no_key_is_a_401(world: ServiceWorld) -> None:
    token, other = world.token(), world.token()
    upload_id = _upload(world, token)
    both = _get(upload_id, f"token={token}", {"x-api-key": other})
    assert both["statusCode"] == 400 and _body(both)["details"] == {"params": ["token"]}
    anonymous = _get(upload_id)
    assert anonymous["statusCode"] == 401 and _body(anonymous)["code"] == "missing_token"


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer {token}"}, {"X-Api-Key": "{token}"}])
def test_post_takes_the_key_from_a_header_too(world: ServiceWorld, headers: dict[str, str]) -> None:
    token = world.token()
    filled = {name: value.format(token=token) for name, value in headers.items()}
    created = _post(world, "exercise=squat", '{"contentType": "video/mp4", "contentLength": 10}', filled)
    assert created["statusCode"] == 201 and world.calls(token) == 1


def test_post_refuses_a_header_key_that_differs_from_the_query_key_before_charging(world: ServiceWorld) -> None:
    token, other = world.token(), world.token()
    refused = _post(world, f"token={token}", '{"contentLength": 10}', {"Authorization": f"Bearer {other}"})
    assert refused["statusCode"] == 400 and _body(refused)["code"] == "invalid_params"
    assert world.calls(token) == world.calls(other) == 0


@pytest.mark.parametrize(
    ("body", "encoded"),
    [
        (base64.b64encode(b'{"contentLength": 10, "contentType": "video/mp4\xff"}').decode(), True),
        (base64.b64encode(b"\xff\xfe\x00{").decode(), True),
        (DEEP, False),
        ('{"contentLength": ' + DEEP + "}", False),
        ("[1, 2]", False),
        ("{not json", False),
    ],
)
def test_bodies_that_are_not_utf8_json_objects_are_invalid_params(
    world: ServiceWorld, body: str, encoded: bool
) -> None:
    token = world.token()
    event = _event("create_upload", upt_EXAMPLE=token) | {"body": body, "isBase64Encoded": encoded}
    refused = _handler("create_upload")(event)
    assert refused["statusCode"] == 400, refused
    assert _body(refused)["code"] == "invalid_params" and world.calls(token) == 0


def test_a_json_body_is_read_whatever_content_type_the_client_says(world: ServiceWorld) -> None:
    token = world.token()
    for content_type in ("text/plain;charset=UTF-8", "application/x-www-form-urlencoded"):
        created = _post(world, f"token={token}", '{"contentLength": 10}', {"content-type": content_type})
        assert created["statusCode"] == 201, created


def test_an_unknown_body_field_names_itself(world: ServiceWorld) -> None:
    token = world.token()
    refused = _post(world, f"token={token}", '{"contentLength": 10, "key": "../x"}')
    assert refused["statusCode"] == 400 and _body(refused)["details"] == {"params": ["key"]}


def test_an_unexpected_failure_is_a_generic_500_without_a_traceback(
    world: ServiceWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("/var/task/secret.py line 3")

    monkeypatch.setattr(wiring, "upload_deps", broken)
    failed = _handler("create_upload")(_event("create_upload"))
    assert failed["statusCode"] == 500 and _body(failed)["code"] == "analysis_failed"
    assert "secret" not in failed["body"] and "Traceback" not in failed["body"]


def _connect(query: dict[str, str] | None) -> dict[str, Any]:
    event = _event("ws_connect") | {"queryStringParameters": query}
    return _handler("ws_connect")(event)


def test_websocket_connect_refusals_are_typed_statuses(world: ServiceWorld) -> None:
    token = world.token()
    upload_id = _upload(world, token)
    assert _connect({"uploadId": upload_id, "token": token}) == {"statusCode": 200}
    assert _connect({"uploadId": upload_id, "Token": token}) == {"statusCode": 200}
    assert _connect({"token": token}) == {"statusCode": 400}
    assert _connect(None) == {"statusCode": 401}
    assert _connect({"uploadId": upload_id}) == {"statusCode": 401}
    assert _connect({"uploadId": "x" * 3000, "token": token}) == {"statusCode": 403}
    assert _connect({"uploadId": upload_id, "token": world.token()}) == {"statusCode": 403}


@pytest.mark.parametrize("frame", [DEEP, '{"action": ' + DEEP + "}", "\udcff", "[]"])
def test_a_subscribe_frame_that_is_not_a_json_object_gets_a_typed_error(world: ServiceWorld, frame: str) -> None:
    token = world.token()
    upload_id = _upload(world, token)
    assert _connect({"uploadId": upload_id, "token": token}) == {"statusCode": 200}
    connection_id = _event("ws_connect")["requestContext"]["connectionId"]
    event = _event("ws_subscribe", **{EXAMPLE_ID: upload_id}) | {"body": frame}
    event["requestContext"]["connectionId"] = connection_id
    assert _handler("ws_subscribe")(event) == {"statusCode": 200}
    told = [json.loads(sent) for sent in world.pusher.frames[connection_id]]
    assert [(m["type"], m["code"]) for m in told] == [("error", "invalid_params")]


def test_every_http_function_uses_the_shared_resolver() -> None:
    for name in ("create_upload", "create_reference", "get_upload", "get_reference"):
        assert type(_module(name).app).__name__ == "JsonApiResolver", name
        assert "respond(" not in Path(REPO / "functions" / name / "app.py").read_text()
