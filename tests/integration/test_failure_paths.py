"""The failure paths of a deployment, on the moto stack: every way an upload can fail ends in one typed `error`.

* StartExecution fails once: the upload stays `validating`, Lambda's asynchronous retry starts the analysis once;
* a function fails every asynchronous attempt: Lambda queues the invocation record on the template's OnFailure
  queue, ReportFailure (that queue's consumer) fails the upload with a typed error;
* an upload stuck past its deadline: the scheduled sweeper fails it and tells the subscriber;
* a chunk whose Lambda times out (`Sandbox.Timedout`): retried once, then a typed error.

moto runs no asynchronous invocations, destinations or event source mappings, so `invoke_async` and
`deliver_queue` play Lambda's part, from the template's own settings (`EventInvokeConfig`, the SQS event).
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from uptrack_service.adapters.stepfunctions import StepFunctionsOrchestrator
from uptrack_service.local.stack import LocalStack
from uptrack_service.local.template import load_template

from tests.integration.subscriber import Subscriber
from tests.support.corpus import SAMPLE_REPS, Media
from tests.support.paths import REPO
from tests.support.stack_client import StackProbe, call, injected, put, run_upload, s3_event, wait_until

pytestmark = pytest.mark.slow

QUERY = "exercise=squat"
TEMPLATE = load_template(REPO / "template.yaml")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return Media(tmp_path_factory.mktemp("failure-paths")).base.read_bytes()


@pytest.fixture(scope="module")
def failure_queue(stack: LocalStack) -> str:
    """The template's AsyncFailureQueue (the local stack makes only the queues it routes S3 events through)."""
    assert TEMPLATE["Resources"]["AsyncFailureQueue"]["Type"] == "AWS::SQS::Queue"
    return str(stack.client("sqs").create_queue(QueueName=f"uptrack-async-failures-{uuid.uuid4().hex[:6]}")["QueueUrl"])


def _async_config(function: str) -> dict[str, Any]:
    config: dict[str, Any] = TEMPLATE["Resources"][function]["Properties"]["EventInvokeConfig"]
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["AsyncFailureQueue", "Arn"]},
    }
    return config


def invoke_async(stack: LocalStack, function: str, event: dict[str, Any], queue: str, done: int = 1) -> int:
    """Lambda's asynchronous invocation after `done` failed tries (made by the stack's own event delivery): retried
    up to 1 + MaximumRetryAttempts tries, then the OnFailure record on the queue. The number of tries made."""
    tries = 1 + int(_async_config(function)["MaximumRetryAttempts"])
    assert stack.registry is not None
    for attempt in range(done + 1, tries + 1):
        before = len(stack.registry.errors)
        stack.invoke(function, event)
        if len(stack.registry.errors) == before:
            return attempt
    error_type, _, message = stack.registry.errors[-1][1].strip().splitlines()[-1].partition(": ")
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{stack.region}:123456789012:function:{function}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": tries,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": message, "errorType": error_type.rsplit(".", 1)[-1]},
    }
    stack.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(record))
    return tries


def deliver_queue(stack: LocalStack, queue: str) -> list[dict[str, Any]]:
    """The SQS event source mapping of ReportFailure: each message as a one-record batch (BatchSize 1), deleted
    when the function succeeds."""
    source = TEMPLATE["Resources"]["ReportFailureFunction"]["Properties"]["Events"]["AsyncFailures"]
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    sqs = stack.client("sqs")
    results = []
    for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        batch = {"Records": [{"messageId": message["MessageId"], "body": message["Body"], "eventSource": "aws:sqs"}]}
        result = stack.invoke("ReportFailureFunction", batch)
        if "reports" in result:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        results.append(result)
    return results


def _created(stack: LocalStack, token: str, clip: bytes) -> dict[str, Any]:
    status, created = call(
        "POST",
        f"{stack.http_url}/uploads?token={token}&{QUERY}",
        {"contentType": "video/mp4", "contentLength": len(clip)},
    )
    assert status == 201
    return created


def test_a_start_execution_that_fails_once_is_retried_and_analyses_once(
    stack: LocalStack, clip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = StepFunctionsOrchestrator.start
    failures: list[str] = []
    lock = threading.Lock()

    def fails_once(self: StepFunctionsOrchestrator, name: str, payload: Any) -> bool:
        with lock:
            if not failures:
                failures.append(name)
                raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, "StartExecution")
        return real_start(self, name, payload)

    monkeypatch.setattr(StepFunctionsOrchestrator, "start", fails_once)
    probe = StackProbe(stack)
    probe.mark_errors()
    token = stack.create_token()
    created = _created(stack, token, clip)
    upload_id = created["uploadId"]
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], clip) == 200  # S3's event: the first attempt fails
    wait_until(lambda: bool(failures) and bool(probe.unexpected_errors()), 60, "the failed StartExecution")
    record = probe.record(upload_id)
    assert record is not None and record.status.value == "validating"  # not marked: a retry can still start it
    assert probe.execution_status(upload_id) is None

    retry = stack.invoke("ValidateUploadFunction", s3_event(stack, upload_id, len(clip), "retry-1"))
    assert retry["outcome"] == "started"
    messages = subscriber.wait(180)
    assert messages[-1]["message"] == "Analysis completed"
    assert next(m for m in messages if m["type"] == "counter" and m.get("final"))["current_count"] == SAMPLE_REPS
    assert [e["name"] for e in stack.executions()].count(upload_id) == 1
    late = stack.invoke("ValidateUploadFunction", s3_event(stack, upload_id, len(clip), "retry-2"))
    assert late["outcome"] == "duplicate"


def test_a_validation_that_fails_every_async_attempt_fails_the_upload_through_the_queue(
    stack: LocalStack, clip: bytes, failure_queue: str
) -> None:
    attempts: list[str] = []

    def crash(event: dict[str, Any]) -> None:
        attempts.append(str(event.get("id")))
        raise MemoryError("injected: Runtime.OutOfMemory")

    token = stack.create_token()
    created = _created(stack, token, clip)
    upload_id = created["uploadId"]
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    with injected(stack, "ValidateUploadFunction", crash):
        assert put(created["upload"], clip) == 200
        wait_until(lambda: len(attempts) == 1, 60, "S3's event reached the validation function")
        event = s3_event(stack, upload_id, len(clip), "async-1")
        assert invoke_async(stack, "ValidateUploadFunction", event, failure_queue) == 3  # 1 + 2 retries
    assert len(attempts) == 3
    assert call("GET", f"{stack.http_url}/uploads/{upload_id}", token=token)[1]["status"] == "awaiting_upload"

    reports = deliver_queue(stack, failure_queue)
    assert reports == [{"reports": [{"uploadId": upload_id, "code": "analysis_failed", "delivered": True}]}]
    received = subscriber.wait(30)
    assert received[-1]["type"] == "error" and received[-1]["code"] == "analysis_failed"
    assert received[-1]["details"] == {"reason": "MemoryError"} and "injected" not in json.dumps(received)
    view = call("GET", f"{stack.http_url}/uploads/{upload_id}", token=token)[1]
    assert view["status"] == "failed" and view["error"] == "analysis_failed"
    left = stack.client("sqs").get_queue_attributes(QueueUrl=failure_queue, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "0"  # reported, so deleted


def test_a_failure_record_of_no_upload_is_dropped_not_retried(stack: LocalStack, failure_queue: str) -> None:
    """The sweeper's own failed run (a schedule event) has no upload to fail: logged, deleted from the queue."""
    schedule = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    record = {"requestPayload": schedule, "responsePayload": {"errorType": "ClientError"}}
    stack.client("sqs").send_message(QueueUrl=failure_queue, MessageBody=json.dumps(record))
    assert deliver_queue(stack, failure_queue) == [{"reports": []}]


def _age(stack: LocalStack, upload_id: str, minutes: int) -> None:
    """Backdate an upload's creation, as if it had been open that long."""
    created = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
    stack.client("dynamodb").update_item(
        TableName=stack.names["UploadsTable"],
        Key={"upload_id": {"S": upload_id}},
        UpdateExpression="SET created_at = :c",
        ExpressionAttributeValues={":c": {"S": created}},
    )


def test_an_upload_stuck_past_its_deadline_is_swept_with_a_typed_error(stack: LocalStack, clip: bytes) -> None:
    from uptrack_service.models import Status

    probe = StackProbe(stack)
    token = stack.create_token()
    stuck, young, waiting = (_created(stack, token, clip)["uploadId"] for _ in range(3))
    for upload_id in (stuck, young):
        assert probe.uploads.transition(upload_id, Status.PROCESSING, (Status.AWAITING_UPLOAD,))
    for upload_id in (stuck, waiting):
        _age(stack, upload_id, 45)
    subscriber = Subscriber(f"{stack.websocket_url}?uploadId={stuck}&token={token}").start()
    wait_until(lambda: bool(probe.uploads.get(stuck).subscribers), 10, "subscribed")  # type: ignore[union-attr]

    schedule_input = TEMPLATE["Resources"]["SweepStuckUploadsFunction"]["Properties"]["Events"]["Every5Minutes"]
    assert "stuckAfterMinutes" in str(schedule_input["Properties"]["Input"])
    result = stack.invoke("SweepStuckUploadsFunction", {"stuckAfterMinutes": 30})
    assert stuck in result["swept"] and young not in result["swept"] and waiting not in result["swept"]
    assert result["stopped"] == []  # no execution was running for it

    received = subscriber.wait(30)
    assert received[-1]["type"] == "error" and received[-1]["code"] == "analysis_failed"
    assert received[-1]["details"] == {"reason": "stuck_processing"}
    assert probe.record(stuck).status.value == "failed"  # type: ignore[union-attr]
    assert probe.record(young).status.value == "processing"  # type: ignore[union-attr]
    assert probe.record(waiting).status.value == "awaiting_upload"  # type: ignore[union-attr]
    assert stuck not in stack.invoke("SweepStuckUploadsFunction", {"stuckAfterMinutes": 30})["swept"]


# A Lambda timeout reaches Step Functions as the error `Sandbox.Timedout` (not `States.Timeout`).
SandboxTimedout = type("Sandbox.Timedout", (Exception,), {})


def test_a_chunk_that_times_out_is_retried_once_then_fails_with_a_typed_error(stack: LocalStack, clip: bytes) -> None:
    attempts: list[int] = []
    lock = threading.Lock()

    def times_out_once(event: dict[str, Any]) -> None:
        with lock:
            if event.get("chunk", {}).get("index") == 1 and not attempts:
                attempts.append(1)
                raise SandboxTimedout("Task timed out after 60.00 seconds")

    with injected(stack, "InferenceFunction", times_out_once):
        recovered = run_upload(stack, stack.create_token(), QUERY, "video/mp4", clip)
    assert attempts == [1] and recovered.code == "ok" and recovered.execution == "SUCCEEDED"

    timeouts: list[int] = []

    def always_times_out(event: dict[str, Any]) -> None:
        if event.get("chunk", {}).get("index") == 1:
            with lock:
                timeouts.append(1)
            raise SandboxTimedout("Task timed out after 60.00 seconds")

    with injected(stack, "InferenceFunction", always_times_out):
        failed = run_upload(stack, stack.create_token(), QUERY, "video/mp4", clip)
    assert len(timeouts) == 2  # the first attempt and one retry (the Sandbox.Timedout retrier), no more
    assert failed.code == "analysis_failed" and failed.upload_status == "failed" and failed.execution == "FAILED"
    assert "Timedout" not in json.dumps(failed.messages[-1]["message"])  # typed, never the Lambda's own text


def _states_entered(stack: LocalStack, upload_id: str) -> set[str]:
    sfn = stack.client("stepfunctions")
    arn = stack.execution(upload_id)["executionArn"]
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return {str(e["stateEnteredEventDetails"]["name"]) for e in events if "stateEnteredEventDetails" in e}


def test_a_short_video_takes_the_inline_map_and_a_longer_one_the_distributed_map(
    stack: LocalStack, clip: bytes
) -> None:
    """Same messages either way; which Map ran is the execution's history. The template's InlineMapMaxChunks
    (INLINE_MAP_MAX_CHUNKS) decides: the sample's 3 chunks are under the default, and over a limit of 0."""
    from uptrack_service import wiring

    inline = run_upload(stack, stack.create_token(), QUERY, "video/mp4", clip)
    saved = os.environ["INLINE_MAP_MAX_CHUNKS"]
    os.environ["INLINE_MAP_MAX_CHUNKS"] = "0"
    wiring.reset()
    try:
        distributed = run_upload(stack, stack.create_token(), QUERY, "video/mp4", clip)
    finally:
        os.environ["INLINE_MAP_MAX_CHUNKS"] = saved
        wiring.reset()
    assert inline.code == "ok" and distributed.code == "ok"
    assert "InferChunksInline" in _states_entered(stack, str(inline.upload_id))
    assert "InferChunks" not in _states_entered(stack, str(inline.upload_id))
    assert "InferChunks" in _states_entered(stack, str(distributed.upload_id))

    def bare(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in m.items() if k not in ("seq", "uploadId")} for m in messages if m["type"] != "progress"
        ]

    assert bare(inline.messages) == bare(distributed.messages)
