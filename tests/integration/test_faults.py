"""Networks fail and events repeat: the pipeline on moto keeps working, loses no message and never loops.

* the same S3 event delivered three times (twice while the first is being validated) -> one execution, one set of
  messages;
* an inference invocation that fails once (a transient error) is retried by the state machine and the result is the
  same as without the failure; one that keeps failing ends in one `analysis_failed` error for the subscriber and a
  `failed` upload;
* a subscriber that disconnects mid-analysis and reconnects with `afterSeq` gets every message exactly once, in
  order (replay, then live, de-duplicated by `seq`);
* a connection that is gone (API Gateway answers 410) is removed after one attempt, never retried.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from uptrack_service.delivery import Delivery
from uptrack_service.local.stack import LocalStack
from uptrack_service.models import Connection
from websockets.sync.client import connect

from tests.integration.subscriber import Subscriber, is_final
from tests.support.corpus import SAMPLE_REPS, Media
from tests.support.paths import REPO
from tests.support.stack_client import (
    Outcome,
    StackProbe,
    assert_no_orphans,
    assert_one_clean_stream,
    call,
    injected,
    put,
    run_upload,
    s3_event,
    wait_until,
)

pytestmark = pytest.mark.slow

QUERY = "exercise=squat"


class TransientNetworkError(ConnectionResetError):
    """What a worker sees when S3 drops the connection mid-download."""


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The sample at 640x360: 7.1 s, 213 frames, 4 chunks, 2 squats."""
    return Media(tmp_path_factory.mktemp("faults")).base.read_bytes()


@pytest.fixture(scope="module")
def clean_run(stack: LocalStack, clip: bytes) -> Outcome:
    outcome = run_upload(stack, stack.create_token(), QUERY, "video/mp4", clip)
    assert outcome.code == "ok", outcome.messages[-2:]
    return outcome


def in_order(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A client's view of raw frames: duplicates dropped by `seq`, sorted, cut at the first missing seq."""
    by_seq = {int(frame["seq"]): frame for frame in frames}
    kept: list[dict[str, Any]] = []
    while len(kept) + 1 in by_seq:
        kept.append(by_seq[len(kept) + 1])
    return kept


def bare(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages without the delivery envelope and without `progress` (chunks finish in any order)."""
    return [{k: v for k, v in m.items() if k not in ("seq", "uploadId")} for m in messages if m["type"] != "progress"]


def test_the_same_s3_event_three_times_gives_one_analysis(stack: LocalStack, clip: bytes) -> None:
    token = stack.create_token()
    status, created = call("POST", f"{stack.http_url}/uploads?token={token}&{QUERY}", _body(clip))
    assert status == 201
    upload_id = created["uploadId"]
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], clip) == 200  # S3 sends the first event
    sqs = stack.client("sqs")
    duplicates = [s3_event(stack, upload_id, len(clip), f"dup-{i}") for i in range(2)]
    for event in duplicates:  # redelivered to the validation function's queue at once, like EventBridge may
        sqs.send_message(QueueUrl=stack.s3_queues["ValidateUploadFunction"], MessageBody=json.dumps(event))
    outcomes = [stack.invoke("ValidateUploadFunction", duplicates[0])["outcome"]]  # and once more, directly

    received = subscriber.wait(180)
    stored = call("GET", f"{stack.http_url}/uploads/{upload_id}", token=token)[1]["messages"]
    late = stack.invoke("ValidateUploadFunction", duplicates[1])["outcome"]

    assert outcomes[0] in ("duplicate", "started") and late == "duplicate"
    assert [e["name"] for e in stack.executions()].count(upload_id) == 1
    assert received == stored
    assert_one_clean_stream(received, upload_id)
    assert [m["type"] for m in received].count("initialization") == 2  # "loading video" and the closing one
    assert sum(1 for m in received if m["type"] == "counter" and m.get("final")) == 1
    assert received[-1]["message"] == "Analysis completed"


def _body(clip: bytes) -> dict[str, Any]:
    return {"contentType": "video/mp4", "contentLength": len(clip)}


def test_an_inference_that_fails_once_is_retried_and_changes_nothing(
    stack: LocalStack, clip: bytes, clean_run: Outcome
) -> None:
    failed: list[int] = []
    calls: list[int] = []
    lock = threading.Lock()

    def once(event: dict[str, Any]) -> None:
        chunk = event.get("chunk", {}).get("index")
        with lock:
            calls.append(chunk)
            if chunk == 1 and not failed:
                failed.append(chunk)
                raise TransientNetworkError("injected: connection reset by peer")

    probe = StackProbe(stack)
    with injected(stack, "InferenceFunction", once):
        outcome = run_upload(stack, stack.create_token(), QUERY, "video/mp4", clip)
    assert failed == [1] and calls.count(1) == 2, calls  # failed, then retried once
    assert outcome.code == "ok" and outcome.execution == "SUCCEEDED", outcome.messages[-2:]
    assert bare(outcome.messages) == bare(clean_run.messages)
    assert next(m for m in outcome.messages if m["type"] == "counter" and m.get("final"))["current_count"] == (
        SAMPLE_REPS
    )
    assert_one_clean_stream(outcome.messages, str(outcome.upload_id))
    record = probe.record(str(outcome.upload_id))
    assert record is not None and record.status.value == "completed" and record.frames_done == 213


def test_an_inference_that_keeps_failing_ends_in_one_error_and_a_failed_upload(
    stack: LocalStack, clip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk 1 keeps failing, and its siblings' `progress` is held until the upload has failed: the race a CI run
    hit (a sibling that read the record while it was open delivered its progress after the error)."""
    attempts: list[int] = []
    held: list[int] = []
    probe = StackProbe(stack)

    def always(event: dict[str, Any]) -> None:
        if event.get("chunk", {}).get("index") == 1:
            attempts.append(1)
            raise TransientNetworkError("injected: connection reset by peer")

    real_emit_progress = Delivery.emit_progress

    def after_the_failure(delivery: Delivery, upload_id: str, *args: int) -> list[dict[str, Any]]:
        wait_until(lambda: probe.record(upload_id).status.value == "failed", 30, "the upload failed")  # type: ignore[union-attr]
        try:
            return real_emit_progress(delivery, upload_id, *args)
        finally:
            held.append(1)

    monkeypatch.setattr(Delivery, "emit_progress", after_the_failure)
    token = stack.create_token()
    with injected(stack, "InferenceFunction", always):
        began = time.monotonic()
        outcome = run_upload(stack, token, QUERY, "video/mp4", clip, timeout_s=120)
        took = time.monotonic() - began
        wait_until(lambda: len(held) > 0, 30, "a sibling chunk's progress delivered after the failure")
    assert outcome.code == "analysis_failed", outcome.messages[-2:]
    assert len(attempts) == 2  # the first attempt and one retry of States.TaskFailed (the EXPRESS 5-min budget)
    error = outcome.messages[-1]
    assert error["type"] == "error" and error["error"] == "analysis_failed"
    assert "Traceback" not in json.dumps(error) and "injected" not in json.dumps(error)
    assert_one_clean_stream(outcome.messages, str(outcome.upload_id))
    view = call("GET", f"{stack.http_url}/uploads/{outcome.upload_id}", token=token)[1]
    assert view["status"] == "failed" and view["error"] == "analysis_failed"
    assert view["messages"][-1]["type"] == "error", view["messages"][-2:]  # nothing stored after the error
    assert outcome.execution == "FAILED" and took < 60
    record = probe.record(str(outcome.upload_id))
    assert record is not None and not record.subscribers


def test_a_subscriber_that_reconnects_gets_every_message_once_in_order(stack: LocalStack, clip: bytes) -> None:
    probe = StackProbe(stack)
    probe.mark_errors()
    token = stack.create_token()
    status, created = call("POST", f"{stack.http_url}/uploads?token={token}&{QUERY}", _body(clip))
    assert status == 201
    upload_id = created["uploadId"]
    url = f"{created['websocketUrl']}&token={token}"
    first: list[dict[str, Any]] = []
    progressed = threading.Event()

    def slow_chunk(event: dict[str, Any]) -> None:
        if event.get("chunk", {}).get("index", 0) >= 2:
            progressed.wait(30)  # the later chunks wait until the first subscriber has gone away

    with injected(stack, "InferenceFunction", slow_chunk), connect(url, open_timeout=30) as socket:
        socket.send(json.dumps({"action": "subscribe", "afterSeq": 0}))
        assert put(created["upload"], clip) == 200
        while not any(m["type"] == "progress" for m in first):
            first.append(json.loads(socket.recv(timeout=60)))
        socket.close()  # the phone loses its network mid-analysis
        wait_until(lambda: not probe.uploads.get(upload_id).subscribers, 10, "first connection unsubscribed")  # type: ignore[union-attr]
        kept = in_order(first)  # what the app processed: each seq once, in seq order, up to its first gap
        progressed.set()
        # while nobody listens, more of the analysis is delivered (stored only)
        wait_until(lambda: probe.uploads.get(upload_id).next_seq > kept[-1]["seq"] + 2, 60, "more messages")  # type: ignore[union-attr]
        resumed = Subscriber(url, after_seq=int(kept[-1]["seq"])).start()
        second = resumed.wait(180)

    stored = call("GET", f"{stack.http_url}/uploads/{upload_id}", token=token)[1]["messages"]
    assert [m["seq"] for m in kept + second] == list(range(1, len(stored) + 1))  # every message once, in order
    assert kept + second == stored
    assert is_final(second[-1]) and second[-1]["message"] == "Analysis completed"
    assert all(int(frame["seq"]) > int(kept[-1]["seq"]) for frame in resumed.frames)  # nothing before afterSeq
    duplicates = len(first) - len({m["seq"] for m in first}) + resumed.duplicates
    print(
        f"\nreconnect: {len(first)} frames before the drop ({duplicates} duplicates dropped by seq), resumed after "
        f"seq {kept[-1]['seq']} with {len(resumed.frames)} frames; {len(stored)} messages in all"
    )
    assert_no_orphans(probe, Outcome(201, "ok", stored, upload_id, None, "SUCCEEDED"))


def test_a_gone_connection_is_removed_after_one_attempt(
    stack: LocalStack, clip: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.gateway is not None
    gateway = stack.gateway
    posts: dict[str, int] = {}
    manage = gateway._manage

    def counting(request: BaseHTTPRequestHandler, method: str) -> None:
        connection_id = request.path.rsplit("/", 1)[-1]
        posts[connection_id] = posts.get(connection_id, 0) + (method == "POST")
        manage(request, method)

    monkeypatch.setattr(gateway, "_manage", counting)
    token = stack.create_token()
    status, created = call("POST", f"{stack.http_url}/uploads?token={token}&{QUERY}", _body(clip))
    assert status == 201
    upload_id = created["uploadId"]
    probe = StackProbe(stack)
    ghost = "Z2hvc3QtY29ubmVjdGlvbg="  # subscribed, then the phone vanished without a $disconnect
    record = probe.record(upload_id)
    assert record is not None
    probe.connections.put(
        Connection(
            connection_id=ghost,
            upload_id=upload_id,
            token_id=record.token_id,
            connected_at=record.created_at,
            expires_at=record.expires_at,
        )
    )
    assert probe.uploads.subscribe(upload_id, ghost, 20)
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], clip) == 200
    received = subscriber.wait(180)

    quoted = ghost.replace("=", "%3D")
    assert posts.get(quoted, 0) + posts.get(ghost, 0) == 1  # one push was tried, answered 410, never retried
    assert probe.connections.get(ghost) is None
    assert ghost not in probe.uploads.get(upload_id).subscribers  # type: ignore[union-attr]
    assert received[-1]["message"] == "Analysis completed"  # the live subscriber got everything anyway
    assert_one_clean_stream(received, upload_id)


def test_a_fetch_that_crashes_on_every_attempt_fails_the_upload_instead_of_leaving_it_fetching(
    stack: LocalStack, clean_run: Outcome
) -> None:
    """Lambda sends the fetch function's failed asynchronous event to ReportFailure (the template's OnFailure
    destination); moto has no destinations, so the test delivers the record Lambda would send."""
    crashes: list[str] = []

    def crash(event: dict[str, Any]) -> None:
        crashes.append(str(event.get("uploadId")))
        raise MemoryError("injected: Runtime.OutOfMemory")

    probe = StackProbe(stack)
    token = stack.create_token()
    with injected(stack, "FetchMediaFunction", crash):  # the fetch crashes before any connection is made
        status, created = call("POST", f"{stack.http_url}/uploads?token={token}&videoSrc=http://example.com/a.mp4", {})
        assert status == 201 and created.get("upload") is None
        upload_id = created["uploadId"]
        subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
        wait_until(lambda: upload_id in crashes, 30, "the fetch function ran")
    assert call("GET", f"{stack.http_url}/uploads/{upload_id}", token=token)[1]["status"] == "fetching"

    def on_failure(target: str) -> dict[str, Any]:
        return {
            "version": "1.0",
            "timestamp": "2026-11-25T20:00:00.000Z",
            "requestContext": {
                "requestId": "c0ffee00-0000-4000-8000-000000000000",
                "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:FetchMediaFunction:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 2,
            },
            "requestPayload": {"uploadId": target},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": "injected: Runtime.OutOfMemory", "errorType": "MemoryError"},
        }

    reported = stack.invoke("ReportFailureFunction", on_failure(upload_id))
    assert reported == {"uploadId": upload_id, "code": "analysis_failed", "delivered": True}
    received = subscriber.wait(30)
    assert [m["type"] for m in received] == ["error"] and received[0]["code"] == "analysis_failed"
    assert "injected" not in json.dumps(received)  # the error's name only (details.reason), never its message
    assert received[0]["details"] == {"reason": "MemoryError"}
    view = call("GET", f"{stack.http_url}/uploads/{upload_id}", token=token)[1]
    assert view["status"] == "failed" and view["error"] == "analysis_failed"
    wait_until(lambda: not probe.uploads.get(upload_id).subscribers, 10, "subscriber removed")  # type: ignore[union-attr]

    # a late record for an upload whose media did arrive changes nothing
    finished = str(clean_run.upload_id)
    seqs = probe.record(finished).next_seq  # type: ignore[union-attr]
    assert stack.invoke("ReportFailureFunction", on_failure(finished))["delivered"] is False
    after = probe.record(finished)
    assert after is not None and after.status.value == "completed" and after.next_seq == seqs
