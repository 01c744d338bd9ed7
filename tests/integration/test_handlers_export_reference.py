"""The export and reference handlers, fed the `events/*.json` files that `sam local invoke -e` takes, on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from uptrack.contract.tokens import hash_token
from uptrack_service.keys import export_plan_key, signature_key
from uptrack_service.local.stack import LocalStack
from uptrack_service.models import Status

from tests.integration.test_handlers_events import EXAMPLE_ID, load
from tests.support.paths import REPO

BUCKET = "uptrack-uploads-example"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


def _body(response: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(response["body"])
    return loaded


def _reference(stack: LocalStack, token: str) -> str:
    created = stack.invoke("CreateReferenceFunction", load("create_reference", upt_EXAMPLE=token))
    assert created["statusCode"] == 201, created
    body = _body(created)
    assert body["referenceId"] == body["uploadId"] and body["kind"] == "reference"
    return str(body["referenceId"])


def _status(stack: LocalStack, upload_id: str) -> Status:
    record = stack.client("dynamodb").get_item(
        TableName=stack.names["UploadsTable"], Key={"upload_id": {"S": upload_id}}, ConsistentRead=True
    )["Item"]
    return Status(record["status"]["S"])


def test_create_reference_keeps_the_clip_range_and_get_reference_answers_the_owner_only(stack: LocalStack) -> None:
    token, other = stack.create_token(), stack.create_token()
    reference_id = _reference(stack, token)
    record = stack.client("dynamodb").get_item(
        TableName=stack.names["UploadsTable"], Key={"upload_id": {"S": reference_id}}
    )["Item"]
    assert json.loads(record["clip"]["S"]) == {"start_s": 4.67, "end_s": 6.4, "name": "squat rep"}

    mine = stack.invoke("GetReferenceFunction", load("get_reference", upt_EXAMPLE=token, **{EXAMPLE_ID: reference_id}))
    assert mine["statusCode"] == 200 and _body(mine) == {"referenceId": reference_id, "status": "awaiting_upload"}
    theirs = stack.invoke(
        "GetReferenceFunction", load("get_reference", upt_EXAMPLE=other, **{EXAMPLE_ID: reference_id})
    )
    assert theirs["statusCode"] == 404 and _body(theirs)["code"] == "reference_not_found"
    unknown = stack.invoke("GetReferenceFunction", load("get_reference", upt_EXAMPLE=token))
    assert unknown["statusCode"] == 404 and _body(unknown)["code"] == "reference_not_found"
    anonymous = stack.invoke("GetReferenceFunction", load("get_reference", **{"Bearer upt_EXAMPLE": ""}))
    assert anonymous["statusCode"] == 401

    reversed_range = load("create_reference", upt_EXAMPLE=token, **{"4.67": "7.5"})
    refused = stack.invoke("CreateReferenceFunction", reversed_range)
    assert refused["statusCode"] == 400 and _body(refused)["code"] == "invalid_params"


def test_process_reference_rejects_junk_with_a_typed_error_and_ignores_foreign_keys(stack: LocalStack) -> None:
    token = stack.create_token()
    reference_id = _reference(stack, token)
    stack.client("s3").put_object(
        Bucket=stack.bucket, Key=f"references/{reference_id}/source", Body=b"not a video" * 50, ContentType="video/mp4"
    )
    event = load("process_reference", **{EXAMPLE_ID: reference_id, BUCKET: stack.bucket})
    first = stack.invoke("ProcessReferenceFunction", event)
    assert first["outcome"] in ("rejected", "duplicate")  # the S3 notification may have won the race
    assert stack.invoke("ProcessReferenceFunction", event)["outcome"] == "duplicate"
    assert _status(stack, reference_id) is Status.FAILED
    view = stack.invoke("GetReferenceFunction", load("get_reference", upt_EXAMPLE=token, **{EXAMPLE_ID: reference_id}))
    assert _body(view)["status"] == "failed" and _body(view)["error"] in ("video_load_error", "media_decode_error")
    mine = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=f"signatures/{hash_token(token)}/")
    assert "Contents" not in mine

    foreign = load("process_reference", **{f"references/{EXAMPLE_ID}/source": "references/x/notes.txt"})
    assert stack.invoke("ProcessReferenceFunction", foreign)["outcome"] == "ignored"
    upload = stack.invoke("CreateUploadFunction", load("create_upload", upt_EXAMPLE=token))
    not_a_reference = _body(upload)["uploadId"]
    wrong_kind = load("process_reference", **{EXAMPLE_ID: not_a_reference, BUCKET: stack.bucket})
    assert stack.invoke("ProcessReferenceFunction", wrong_kind)["outcome"] == "ignored"


def test_create_upload_refuses_unknown_and_foreign_references_before_metering(stack: LocalStack) -> None:
    token, other = stack.create_token(), stack.create_token()
    query = "token=upt_EXAMPLE&exercise=squat"
    with_reference = load("create_upload", **{query: f"token={token}&reference={EXAMPLE_ID}"})
    with_reference["queryStringParameters"] = {"token": token, "reference": EXAMPLE_ID}
    refused = stack.invoke("CreateUploadFunction", with_reference)
    assert refused["statusCode"] == 404 and _body(refused)["code"] == "reference_not_found"

    # the same id once the token owns a signature under it: admitted; another token: still not found
    stack.client("s3").put_object(
        Bucket=stack.bucket,
        Key=signature_key(hash_token(token), EXAMPLE_ID),
        Body=b"{}",
        ContentType="application/json",
    )
    assert stack.invoke("CreateUploadFunction", with_reference)["statusCode"] == 201
    foreign = json.loads(json.dumps(with_reference).replace(token, other))
    assert _body(stack.invoke("CreateUploadFunction", foreign))["code"] == "reference_not_found"
    bad_token = json.loads(json.dumps(with_reference).replace(token, "upt_nobody"))
    assert _body(stack.invoke("CreateUploadFunction", bad_token))["code"] == "invalid_token"


def test_export_events_parse_and_fail_typed_without_an_upload_or_a_plan(stack: LocalStack) -> None:
    assert stack.registry is not None
    for function, name in (("RenderExportFunction", "render_export"), ("JoinExportFunction", "join_export")):
        assert stack.invoke(function, load(name))["statusCode"] == 500  # Lambda function error
        trace = stack.registry.errors[-1][1]
        assert "AnalysisTaskError" in trace and "upload_not_found" in trace

    # an upload that is processing, asked for an export, but whose aggregation never wrote the plan
    token = stack.create_token()
    created = load("create_upload", upt_EXAMPLE=token)
    created["rawQueryString"] += "&export=true"
    created["queryStringParameters"]["export"] = "true"
    upload_id = _body(stack.invoke("CreateUploadFunction", created))["uploadId"]
    stack.client("dynamodb").update_item(
        TableName=stack.names["UploadsTable"],
        Key={"upload_id": {"S": upload_id}},
        UpdateExpression="SET #s = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":p": {"S": "processing"}},
    )
    assert stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=export_plan_key(upload_id))["KeyCount"] == 0
    event = load("render_export", **{EXAMPLE_ID: upload_id, BUCKET: stack.bucket})
    assert stack.invoke("RenderExportFunction", event)["statusCode"] == 500
    assert "analysis_failed" in stack.registry.errors[-1][1]
    assert _status(stack, upload_id) is Status.FAILED
    view = stack.invoke("GetUploadFunction", load("get_upload", upt_EXAMPLE=token, **{EXAMPLE_ID: upload_id}))
    messages = _body(view)["messages"]
    assert [m["type"] for m in messages] == ["error"] and messages[0]["code"] == "analysis_failed"
    assert "ffmpeg" not in json.dumps(messages) and "http" not in json.dumps(messages)
