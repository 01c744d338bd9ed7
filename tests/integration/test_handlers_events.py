"""Every function's handler, fed the `events/*.json` file that `sam local invoke -e` takes, against moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uptrack_service.local.stack import LocalStack

from tests.support.paths import REPO, SAMPLE_VIDEO

EVENTS = REPO / "events"
EXAMPLE_ID = "3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a12"


def load(name: str, **replace: str) -> dict[str, Any]:
    text = (EVENTS / f"{name}.json").read_text(encoding="utf-8")
    for old, new in replace.items():
        text = text.replace(old, new)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


def test_every_function_has_an_event_file(stack: LocalStack) -> None:
    wanted = {Path(spec.module_path).parent.name for spec in stack.specs.values()}
    assert wanted <= {p.stem for p in EVENTS.glob("*.json")}


def test_create_get_and_reference_handlers(stack: LocalStack) -> None:
    token = stack.create_token()
    created = stack.invoke("CreateUploadFunction", load("create_upload", upt_EXAMPLE=token))
    assert created["statusCode"] == 201, created
    body = json.loads(created["body"])
    assert body["upload"]["headers"] == {"Content-Type": "video/mp4", "Content-Length": "1461693", "If-None-Match": "*"}
    assert f"media%2F{body['uploadId']}" not in body["upload"]["url"]  # key is path, server-made
    assert f"/media/{body['uploadId']}/source?" in body["upload"]["url"]

    got = stack.invoke("GetUploadFunction", load("get_upload", upt_EXAMPLE=token, **{EXAMPLE_ID: body["uploadId"]}))
    assert got["statusCode"] == 200 and json.loads(got["body"])["status"] == "awaiting_upload"
    stranger = stack.invoke("GetUploadFunction", load("get_upload", **{EXAMPLE_ID: body["uploadId"]}))
    assert stranger["statusCode"] == 404 and json.loads(stranger["body"])["code"] == "upload_not_found"

    reference = stack.invoke("CreateReferenceFunction", load("create_reference", upt_EXAMPLE=token))
    assert reference["statusCode"] == 201
    assert "/references/" in json.loads(reference["body"])["upload"]["url"]

    refused = stack.invoke("CreateUploadFunction", load("create_upload"))
    assert refused["statusCode"] == 401 and json.loads(refused["body"])["code"] == "invalid_token"


def _new_upload(stack: LocalStack, token: str) -> str:
    created = stack.invoke("CreateUploadFunction", load("create_upload", upt_EXAMPLE=token))
    upload_id: str = json.loads(created["body"])["uploadId"]
    return upload_id


def test_validate_starts_one_execution_and_ignores_foreign_keys(stack: LocalStack) -> None:
    token = stack.create_token()
    upload_id = _new_upload(stack, token)
    stack.client("s3").put_object(
        Bucket=stack.bucket, Key=f"media/{upload_id}/source", Body=SAMPLE_VIDEO.read_bytes(), ContentType="video/mp4"
    )
    event = load("validate_upload", **{EXAMPLE_ID: upload_id, "uptrack-uploads-example": stack.bucket})
    first = stack.invoke("ValidateUploadFunction", event)
    assert first["outcome"] in ("started", "duplicate")  # the S3 notification may have won the race
    assert stack.invoke("ValidateUploadFunction", event)["outcome"] == "duplicate"
    assert stack.wait_for_execution(upload_id, 120)["status"] == "SUCCEEDED"
    assert [e["name"] for e in stack.executions()].count(upload_id) == 1
    foreign = load("validate_upload", **{f"media/{EXAMPLE_ID}/source": "other/x.mp4"})
    assert stack.invoke("ValidateUploadFunction", foreign)["outcome"] == "ignored"


def test_failure_reporter_turns_a_timeout_into_a_typed_error(stack: LocalStack) -> None:
    token = stack.create_token()
    upload_id = _new_upload(stack, token)
    result = stack.invoke("ReportFailureFunction", load("report_failure", **{EXAMPLE_ID: upload_id}))
    assert result == {"uploadId": upload_id, "code": "analysis_failed", "delivered": True}
    again = stack.invoke("ReportFailureFunction", load("report_failure", **{EXAMPLE_ID: upload_id}))
    assert again["delivered"] is True  # idempotent: the same stage, the same seq


def test_websocket_handlers(stack: LocalStack) -> None:
    token = stack.create_token()
    upload_id = _new_upload(stack, token)
    connect = load("ws_connect", upt_EXAMPLE=token, **{EXAMPLE_ID: upload_id})
    assert stack.invoke("WsConnectFunction", connect) == {"statusCode": 200}
    assert stack.invoke("WsConnectFunction", load("ws_connect", **{EXAMPLE_ID: upload_id})) == {"statusCode": 403}
    # the example connection id is not a live socket: the push answers 410 and the connection is deleted
    assert stack.invoke("WsSubscribeFunction", load("ws_subscribe", **{EXAMPLE_ID: upload_id})) == {"statusCode": 200}
    assert stack.invoke("WsDisconnectFunction", load("ws_disconnect")) == {"statusCode": 200}


def test_inference_and_aggregate_events_parse(stack: LocalStack) -> None:
    """The chunk, image and aggregate payloads are the ASL's shapes; an unknown upload is a typed task error."""
    for name in ("infer_chunk", "infer_image"):
        result = stack.invoke("InferenceFunction", load(name))
        assert result["statusCode"] == 500  # Lambda function error: AnalysisTaskError(upload_not_found)
    assert stack.registry is not None
    assert "upload_not_found" in stack.registry.errors[-1][1]
    assert stack.invoke("AggregateFunction", load("aggregate"))["statusCode"] == 500
    assert "AnalysisTaskError" in stack.registry.errors[-1][1]
    assert stack.invoke("FetchMediaFunction", load("fetch_media"))["result"] == "ignored"
