"""End to end on one machine: template.yaml's stack in moto, Step Functions executing the real ASL, the real
handlers, a real clip, a real WebSocket subscriber.

presigned PUT -> S3 Object Created -> EventBridge -> validation -> Distributed Map of inference -> aggregation ->
stored messages + EventBridge events + WebSocket pushes. The subscriber must receive exactly what
`uptrack analyze` computes for the clip (`analyze_path`), in order; `progress` (parallel chunks finish in any
order) and the seq/uploadId envelope are left out of the comparison.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from uptrack.contract.messages import dump_message
from uptrack.contract.params import parse_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.media import VideoInfo, probe_video
from uptrack.pipeline import LocalRun, analyze_path
from uptrack.pose.engine import EngineSettings
from uptrack_service.delivery import EVENTBRIDGE_TYPES
from uptrack_service.local.stack import LocalStack
from uptrack_service.pipeline.validation import chunk_frames_for, chunk_plan
from uptrack_service.settings import ServiceSettings
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.integration.subscriber import Subscriber
from tests.support.paths import MEDIA, REPO, SAMPLE_VIDEO
from tests.support.stack_client import put, s3_event

pytestmark = pytest.mark.slow

SHARED_CLIP = MEDIA / "squat" / "squat_side_overlay_3reps_msoldo.mp4"
CLIP = SHARED_CLIP if SHARED_CLIP.is_file() else SAMPLE_VIDEO
QUERY = "exercise=squat&keypoints=true&angles=true&minGrade=C"
ENVELOPE = ("seq", "uploadId")


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _get(url: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _bare(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k not in ENVELOPE} for m in messages if m["type"] != "progress"]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


def test_chunk_plan_of_a_60_s_clip() -> None:
    """What validation plans for a minute of 30 fps video with the template's defaults: chunks of 120 frames, two
    whole 60-frame tracking segments (15 workers of 4 s)."""
    info = VideoInfo(codec="avc1", fps=30.0, frame_count=1800, duration_s=60.0, width=1080, height=1920, rotation=0)
    settings = ServiceSettings(uploads_bucket="b-x", uploads_table="t-u", connections_table="t-c", tokens_table="t-t")
    plan = chunk_plan(info, settings)
    print(f"\nchunk plan for 60 s at 30 fps: {len(plan)} chunks of {chunk_frames_for(info, settings)} frames:")
    print(" ".join(f"[{c.start},{c.stop})" for c in plan))
    assert len(plan) == 15
    assert plan[0].start == 0 and plan[-1].stop == 1800
    assert all(c.stop - c.start == 120 for c in plan)
    assert all(a.stop == b.start for a, b in itertools.pairwise(plan))


def test_presigned_upload_streams_the_same_messages_as_uptrack_analyze(stack: LocalStack) -> None:
    token = stack.create_token()
    began = time.monotonic()

    # Given an upload admitted by the HTTP API, and a subscriber listening on a real socket
    status, created = _post(
        f"{stack.http_url}/uploads?token={token}&{QUERY}",
        {"contentType": "video/mp4", "contentLength": CLIP.stat().st_size},
    )
    assert status == 201, created
    upload_id = created["uploadId"]
    assert created["upload"]["method"] == "PUT"
    assert "content-length%3Bcontent-type%3Bhost" in created["upload"]["url"]  # SigV4 binds type and size
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()

    # When the client PUTs the clip to the presigned URL
    assert put(created["upload"], CLIP.read_bytes()) == 200

    # Then the execution named after the upload succeeds and the subscriber gets every message, in order
    received = subscriber.wait(240)
    wall = time.monotonic() - began
    execution = stack.wait_for_execution(upload_id, 60)
    assert execution["status"] == "SUCCEEDED", execution
    assert [e["name"] for e in stack.executions()].count(upload_id) == 1

    seqs = [m["seq"] for m in received]
    assert seqs == list(range(1, len(received) + 1))
    assert all(m["uploadId"] == upload_id for m in received)
    # live pushes of each step arrive in seq order; the chunks' progress messages are pushed by parallel workers, so
    # chunk 2's may overtake chunk 1's, and a message pushed live while the subscription replays arrives twice
    # (clients order and de-duplicate by seq, docs/deploy.md): first arrivals must be in order
    arrival = list(dict.fromkeys(int(frame["seq"]) for frame in subscriber.frames if frame["type"] != "progress"))
    assert arrival == sorted(arrival)

    request = parse_query(
        f"token={token}&{QUERY}", exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids()
    )
    info = probe_video(CLIP)
    settings = ServiceSettings.from_env()
    expected = [
        dump_message(m)
        for m in analyze_path(
            CLIP,
            request,
            LocalRun(
                settings=EngineSettings(models_dir=REPO / "models"), chunk_frames=chunk_frames_for(info, settings)
            ),
        )
    ]
    assert _bare(received) == _bare(expected)
    forms = [m for m in received if m["type"] == "form_score"]
    assert forms and all(m["criteria"] for m in forms)  # uptrack's per-rep criteria survive the cloud path
    progress = [m for m in received if m["type"] == "progress"]
    assert len(progress) == len(chunk_plan(info, settings)) and max(m["percent"] for m in progress) == 100.0
    assert any(frame["type"] == "message_link" for frame in subscriber.frames)  # keypoints_batch > 128 KB
    counters = [m for m in received if m["type"] == "counter"]
    print(
        f"\ne2e: {CLIP.name} ({info.duration_s:.1f} s, {info.width}x{info.height}), {len(received)} messages "
        f"({len(progress)} chunks), final count {counters[-1]['current_count'] if counters else 0}: "
        f"create -> final message {wall:.1f} s"
    )

    # And EventBridge carried the rep-level and final messages (not the per-frame ones), same seq and content
    events = stack.published_events(wait_s=2.0)
    assert events and all(e["source"] == "uptrack" for e in events)
    assert {e["detail-type"] for e in events} <= EVENTBRIDGE_TYPES
    by_seq = {m["seq"]: m for m in received}
    for event in events:
        assert event["detail"] == by_seq[event["detail"]["seq"]]
        assert event["detail-type"] == event["detail"]["type"]
    assert sorted(e["detail"]["seq"] for e in events) == [m["seq"] for m in received if m["type"] in EVENTBRIDGE_TYPES]

    # And a subscriber that connects late replays everything; one resuming after seq N gets only what follows
    assert Subscriber(f"{created['websocketUrl']}&token={token}").start().wait(60) == received
    tail = Subscriber(f"{created['websocketUrl']}&token={token}", after_seq=seqs[-3]).start().wait(60)
    assert tail == received[-2:]

    # And polling apps see the same status and messages; another token sees nothing
    status, view = _get(f"{stack.http_url}/uploads/{upload_id}", token)
    assert status == 200 and view["status"] == "completed"
    assert [m["seq"] for m in view["messages"]] == seqs
    other = stack.create_token()
    assert _get(f"{stack.http_url}/uploads/{upload_id}", other)[0] == 404
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{created['websocketUrl']}&token={other}", open_timeout=10)
    assert refused.value.response.status_code == 403

    # And the same S3 event delivered again starts no second analysis and no new messages
    duplicate = s3_event(stack, upload_id, CLIP.stat().st_size, "dup")
    assert stack.invoke("ValidateUploadFunction", duplicate)["outcome"] == "duplicate"
    assert [e["name"] for e in stack.executions()].count(upload_id) == 1
    status, again = _get(f"{stack.http_url}/uploads/{upload_id}", token)
    assert [m["seq"] for m in again["messages"]] == seqs


def test_bad_media_becomes_a_typed_error_for_the_subscriber(stack: LocalStack) -> None:
    token = stack.create_token()
    junk = b"this is not a video at all" * 100
    status, created = _post(
        f"{stack.http_url}/uploads?token={token}&exercise=squat",
        {"contentType": "video/mp4", "contentLength": len(junk)},
    )
    assert status == 201
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], junk) == 200
    received = subscriber.wait(60)
    assert [m["type"] for m in received] == ["initialization", "environment", "error"]
    assert received[-1]["code"] == received[-1]["error"] == "unsupported_media_format"
    assert "Traceback" not in json.dumps(received) and "http" not in json.dumps(received[-1])
    assert stack.executions() == [] or all(e["name"] != created["uploadId"] for e in stack.executions())


def test_video_src_is_fetched_by_the_service(stack: LocalStack, tmp_path: Path) -> None:
    """videoSrc: the service fetches the media itself (the local stack opens this test server's port only)."""
    import http.server
    import threading

    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(SAMPLE_VIDEO.read_bytes())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack.allow_loopback_fetch(server.server_address[1])
    try:
        token = stack.create_token()
        source = f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
        missing = f"http://127.0.0.1:{server.server_address[1]}/nope.mp4"
        status, created = _post(f"{stack.http_url}/uploads?token={token}&videoSrc={missing}", {})
        assert status == 201 and created.get("upload") is None
        failed = Subscriber(f"{created['websocketUrl']}&token={token}").start().wait(60)
        assert failed[-1]["type"] == "error" and failed[-1]["code"] == "video_load_error"
        status, created = _post(f"{stack.http_url}/uploads?token={token}&videoSrc={source}", {})
        assert status == 201
        received = Subscriber(f"{created['websocketUrl']}&token={token}").start().wait(120)
        assert received[-1]["type"] == "initialization" and received[-1]["message"] == "Analysis completed"
        assert stack.wait_for_execution(created["uploadId"], 60)["status"] == "SUCCEEDED"
    finally:
        server.shutdown()
