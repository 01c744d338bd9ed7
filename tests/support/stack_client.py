"""A test client of the local stack (`LocalStack`): the app's HTTP calls, and read-backs of the stack's state.

The read-backs (upload records, connections, executions, handler errors) are what "no orphan state" is checked on.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from uptrack_service.adapters.dynamodb_connections import DynamoDbConnectionStore
from uptrack_service.adapters.dynamodb_uploads import DynamoDbUploadStore
from uptrack_service.keys import media_key
from uptrack_service.local.stack import LocalStack
from uptrack_service.models import TERMINAL, UploadRecord

from tests.integration.subscriber import Subscriber

Json = dict[str, Any]
TYPED_TASK_ERROR = "AnalysisTaskError"
"""The one exception a function may raise on purpose: the subscriber already has the typed error."""


def call(method: str, url: str, body: Json | None = None, token: str | None = None) -> tuple[int, Json]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def put(target: Json, data: bytes) -> int:
    """PUT the bytes to an upload target (`url` and the `headers` it was signed for) as a client would; the length
    sent is the real one, whatever was declared."""
    headers = {name: value for name, value in target["headers"].items() if name != "Content-Length"}
    request = urllib.request.Request(target["url"], data=data, method="PUT", headers=headers)
    with urllib.request.urlopen(request, timeout=120) as response:
        return int(response.status)


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s")
        time.sleep(0.05)


@dataclass
class StackProbe:
    """Reads what the stack holds, to check that nothing is left behind."""

    stack: LocalStack
    error_mark: int = 0

    def __post_init__(self) -> None:
        self.uploads = DynamoDbUploadStore(self.stack.client("dynamodb"), self.stack.names["UploadsTable"])
        self.connections = DynamoDbConnectionStore(self.stack.client("dynamodb"), self.stack.names["ConnectionsTable"])

    def count(self, table: str) -> int:
        return int(self.stack.client("dynamodb").scan(TableName=self.stack.names[table], Select="COUNT")["Count"])

    def record(self, upload_id: str) -> UploadRecord | None:
        return self.uploads.get(upload_id)

    def execution_status(self, upload_id: str, timeout_s: float = 120.0) -> str | None:
        """The execution's final status (waiting while it runs), or None when none was started."""
        try:
            self.stack.execution(upload_id)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        return str(self.stack.wait_for_execution(upload_id, timeout_s)["status"])

    def mark_errors(self) -> None:
        assert self.stack.registry is not None
        self.error_mark = len(self.stack.registry.errors)

    def unexpected_errors(self) -> list[tuple[str, str]]:
        """Exceptions raised by functions since `mark_errors`, other than the deliberate typed task error."""
        assert self.stack.registry is not None
        raised = self.stack.registry.errors[self.error_mark :]
        return [(name, trace) for name, trace in raised if f"{TYPED_TASK_ERROR}:" not in trace.splitlines()[-1]]

    def object_exists(self, key: str) -> bool:
        try:
            self.stack.client("s3").head_object(Bucket=self.stack.bucket, Key=key)
        except ClientError:
            return False
        return True


@dataclass
class Outcome:
    """What the pipeline did with one upload."""

    status: int
    code: str
    messages: list[Json] = field(default_factory=list)
    upload_id: str | None = None
    upload_status: str | None = None
    execution: str | None = None
    wall_s: float = 0.0


def final_code(messages: list[Json]) -> str:
    last = messages[-1] if messages else {}
    if last.get("type") == "error":
        return str(last["code"])
    return "ok" if last.get("message") == "Analysis completed" and last.get("ready") else f"unfinished: {last}"


def _deliver(stack: LocalStack, created: Json, data: bytes, content_type: str, declared: int) -> None:
    """PUT the media; a length other than the declared (signed) one is refused as S3 refuses it, and the object is
    then written with the stack's own credentials, as if it had got in anyway, for validation to catch."""
    if len(data) == declared:
        assert put(created["upload"], data) == 200
        return
    try:
        put(created["upload"], data)
    except urllib.error.HTTPError as refused:
        assert refused.code == 403
    except urllib.error.URLError:
        pass  # refused before the whole body was sent
    else:
        raise AssertionError("a PUT of another length than the signed one was accepted")
    key = media_key(str(created["uploadId"]))
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=data, ContentType=content_type)


def run_upload(
    stack: LocalStack,
    token: str,
    query: str,
    content_type: str,
    data: bytes,
    declared: int | None = None,
    timeout_s: float = 240.0,
) -> Outcome:
    """One upload through the app's protocol: POST, subscribe, PUT (or the service's fetch), messages to the end."""
    began = time.monotonic()
    body = {"contentType": content_type, "contentLength": len(data) if declared is None else declared}
    status, created = call("POST", f"{stack.http_url}/uploads?token={token}&{query}", body)
    if status != 201:
        return Outcome(status, str(created.get("code")), [created], wall_s=time.monotonic() - began)
    upload_id = str(created["uploadId"])
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    if created.get("upload"):
        _deliver(stack, created, data, content_type, body["contentLength"])
    messages = subscriber.wait(timeout_s)
    wall = time.monotonic() - began
    probe = StackProbe(stack)
    execution = probe.execution_status(upload_id)
    record = probe.record(upload_id)
    return Outcome(
        status,
        final_code(messages),
        messages,
        upload_id,
        record.status.value if record else None,
        execution,
        wall,
    )


def assert_no_orphans(probe: StackProbe, outcome: Outcome) -> None:
    """A finished upload leaves a terminal record, a finished (or never started) execution, no subscriber and no
    connection of its own, and no function crashed on the way."""
    assert outcome.upload_id is not None
    record = probe.record(outcome.upload_id)
    assert record is not None and record.status in TERMINAL, record
    if outcome.code == "ok":
        assert record.status.value == "completed" and outcome.execution == "SUCCEEDED", outcome
    else:
        assert record.status.value == "failed" and record.error_code == outcome.code, record
        assert outcome.execution in (None, "FAILED"), outcome.execution
    wait_until(lambda: not probe.uploads.get(str(outcome.upload_id)).subscribers, 10, "subscriber removed")  # type: ignore[union-attr]
    assert probe.unexpected_errors() == []


def assert_one_clean_stream(messages: list[Json], upload_id: str) -> None:
    """Seqs 1..N without a gap or a repeat, one upload, no traceback, and at most one error (the last message)."""
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert {m["uploadId"] for m in messages} == {upload_id}
    errors = [m for m in messages if m["type"] == "error"]
    assert len(errors) <= 1 and (not errors or messages[-1] is errors[0])
    text = json.dumps(messages)
    assert "Traceback" not in text and "X-Amz-Signature" not in json.dumps(errors)


Fault = Callable[[dict[str, Any]], None]


@contextlib.contextmanager
def injected(stack: LocalStack, function: str, fault: Fault) -> Iterator[None]:
    """Run `fault(event)` before every invocation of `function` (it raises to make the invocation fail)."""
    registry = stack.registry
    assert registry is not None
    original = registry.handler

    def handler(name: str) -> Any:
        real = original(name)
        if name != function:
            return real

        def faulty(event: dict[str, Any], context: Any) -> Any:
            fault(event)
            return real(event, context)

        return faulty

    registry.handler = handler  # type: ignore[method-assign]
    try:
        yield
    finally:
        registry.handler = original  # type: ignore[method-assign]


def s3_event(stack: LocalStack, upload_id: str, size: int, event_id: str) -> dict[str, Any]:
    """The EventBridge `Object Created` event S3 sends for an upload's media."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-25T20:00:00Z",
        "region": stack.region,
        "resources": [f"arn:aws:s3:::{stack.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": stack.bucket},
            "object": {"key": f"media/{upload_id}/source", "size": size},
            "request-id": event_id,
            "requester": "123456789012",
            "source-ip-address": "203.0.113.7",
            "reason": "PutObject",
        },
    }
