"""End to end on moto: `export=true` (rendered per chunk, joined, announced) and reference movements made through
POST /references, then used by uploads.

Everything runs as on AWS, only on this machine: template.yaml's resources in moto, Step Functions executing the
real ASL (two Distributed Maps: inference, then export rendering), the real handlers, S3 → EventBridge → the
validation function or the reference processor, a real WebSocket subscriber. Messages are compared with what
`uptrack analyze` prints for the same clip; expected rep counts come from MANIFEST.csv (`true_reps`).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest
from uptrack.contract.messages import dump_message
from uptrack.contract.params import parse_query
from uptrack.contract.plans import Plan
from uptrack.contract.tokens import hash_token
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.media import probe_video
from uptrack.pipeline import LocalRun, analyze_path
from uptrack.pose.engine import EngineSettings
from uptrack.reference.signature import ReferenceMovement, create_reference
from uptrack_service.adapters.dynamodb_tokens import DynamoDbTokenStore
from uptrack_service.cli.commands.reference import clip_series
from uptrack_service.cli.reference_store import LocalReferenceStore
from uptrack_service.keys import signature_key
from uptrack_service.local.stack import LocalStack
from uptrack_service.pipeline.validation import chunk_frames_for, chunk_plan
from uptrack_service.settings import ServiceSettings

from tests.integration.subscriber import Subscriber
from tests.support.paths import REPO, SAMPLE_VIDEO
from tests.support.stack_client import put

pytestmark = pytest.mark.slow

REFERENCE_CLIP = "squat/squat_side_man_3reps_yuyoujiang.mp4"
REFERENCE_SPAN_S = (4.67, 6.40)  # the second of its three reps (bottoms at ~2.6/5.6/8.4 s per the manifest notes)
TARGET_CLIP = "squat/squat_side_overlay_3reps_msoldo.mp4"
ENVELOPE = ("seq", "uploadId")
MODELS = EngineSettings(models_dir=REPO / "models")


def _request(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _bare(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k not in ENVELOPE} for m in messages if m["type"] != "progress"]


def _without_url(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if not (m["type"] == "export_ready" and k == "url")} for m in messages]


def _request_of(query: str) -> Any:
    return parse_query(query, exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())


def _decoded(path: Path) -> tuple[str, int, float, tuple[int, int]]:
    """(codec tag, frames actually decoded, fps, size) of a video file."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    tag = int(capture.get(cv2.CAP_PROP_FOURCC))
    codec = "".join(chr((tag >> (8 * i)) & 0xFF) for i in range(4)).lower()
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    frames = 0
    while capture.grab():
        frames += 1
    capture.release()
    return codec, frames, fps, size


def _frame(path: Path, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    for _ in range(index + 1):
        ok, image = capture.read()
        assert ok
    capture.release()
    return image.astype(np.int16)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


def test_export_true_ends_with_a_presigned_h264_mp4_of_the_source(stack: LocalStack, tmp_path: Path) -> None:
    token = stack.create_token()
    query = "exercise=squat&export=true"
    began = time.monotonic()

    # Given an upload with export=true and a subscriber
    status, created = _request(
        f"{stack.http_url}/uploads?token={token}&{query}",
        {"contentType": "video/mp4", "contentLength": SAMPLE_VIDEO.stat().st_size},
    )
    assert status == 201, created
    upload_id = created["uploadId"]
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()

    # When the clip is PUT
    assert put(created["upload"], SAMPLE_VIDEO.read_bytes()) == 200

    # Then the subscriber gets the analysis, then export_ready, then the closing message, in seq order
    received = subscriber.wait(300)
    wall = time.monotonic() - began
    assert stack.wait_for_execution(upload_id, 60)["status"] == "SUCCEEDED"
    assert [m["seq"] for m in received] == list(range(1, len(received) + 1))
    types = [m["type"] for m in received]
    assert types[-2:] == ["export_ready", "initialization"] and received[-1]["message"] == "Analysis completed"
    assert types.count("export_ready") == 1 and types.index("exercise_summary") < types.index("export_ready")

    # And the url is a presigned GET of the object in the bucket, expiring after EXPORT_URL_EXPIRY_SECONDS
    ready = received[-2]
    url = urlsplit(ready["url"])
    signed = parse_qs(url.query)
    assert url.path == f"/{stack.bucket}/exports/{upload_id}/uptrack.mp4"
    assert signed["X-Amz-Expires"] == ["3600"] and "X-Amz-Signature" in signed
    assert ready["timestampMs"] == received[-1]["timestampMs"]
    exported = tmp_path / "export.mp4"
    with urllib.request.urlopen(ready["url"], timeout=60) as response:
        exported.write_bytes(response.read())

    # And it is H.264 with the source's frame count, frame rate and (display) size
    source = probe_video(SAMPLE_VIDEO)
    codec, frames, fps, size = _decoded(exported)
    assert codec in ("avc1", "h264")
    assert frames == source.frame_count
    assert abs(fps - source.fps) < 0.01
    assert size == (source.width + source.width % 2, source.height + source.height % 2)

    # And it was rendered chunk by chunk (one part and one renderer per inference chunk) and joined once
    settings = ServiceSettings.from_env()
    chunks = chunk_plan(source, settings)
    listed = stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix=f"work/{upload_id}/export/parts/")
    assert len(listed.get("Contents", [])) == len(chunks) > 1
    assert stack.registry is not None
    assert stack.registry.invocations.count("JoinExportFunction") == 1

    # And the messages are the ones `uptrack analyze --export` prints (the url aside), video frames alike
    local = tmp_path / "local.mp4"
    expected = [
        dump_message(m)
        for m in analyze_path(
            SAMPLE_VIDEO,
            _request_of(f"token={token}&{query}"),
            LocalRun(settings=MODELS, chunk_frames=chunk_frames_for(source, settings), export_to=local),
        )
    ]
    assert _without_url(_bare(received)) == _without_url(_bare(expected))
    for index in (0, source.frame_count // 2, source.frame_count - 1):
        difference = np.abs(_frame(exported, index) - _frame(local, index)).mean()
        assert difference < 2.0, (index, difference)  # same overlay; only the encoder's GOP boundaries differ

    # And EventBridge carried export_ready with the same seq
    events = [e for e in stack.published_events(wait_s=2.0) if e["detail"]["uploadId"] == upload_id]
    assert [e["detail"]["seq"] for e in events if e["detail-type"] == "export_ready"] == [ready["seq"]]
    print(
        f"\nexport e2e: {SAMPLE_VIDEO.name} {source.frame_count} frames {source.width}x{source.height} "
        f"@ {source.fps:g} fps -> {codec} {frames} frames {size[0]}x{size[1]} @ {fps:g} fps, "
        f"{exported.stat().st_size} bytes, {len(chunks)} parts; create -> final message {wall:.1f} s"
    )


def test_export_is_refused_on_the_free_plan(stack: LocalStack) -> None:
    token = stack.create_token(Plan.FREE)
    status, refused = _request(
        f"{stack.http_url}/uploads?token={token}&exercise=squat&export=true",
        {"contentType": "video/mp4", "contentLength": 1000},
    )
    assert status == 403
    assert refused["code"] == "developer_features_not_allowed" and "export" in refused["message"]


def _create_reference(stack: LocalStack, token: str, clip: Path) -> tuple[str, list[dict[str, Any]], float]:
    start, end = REFERENCE_SPAN_S
    began = time.monotonic()
    status, created = _request(
        f"{stack.http_url}/references?token={token}",
        {"contentType": "video/mp4", "contentLength": clip.stat().st_size, "start": start, "end": end, "name": "sq"},
    )
    assert status == 201, created
    assert created["kind"] == "reference" and created["referenceId"] == created["uploadId"]
    assert f"/references/{created['uploadId']}/source?" in created["upload"]["url"]
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], clip.read_bytes()) == 200
    received = subscriber.wait(180)
    return str(created["referenceId"]), received, time.monotonic() - began


def test_reference_from_post_references_counts_another_clip_and_stays_private(
    stack: LocalStack, media_dir: Path, manifest: list[dict[str, str]], tmp_path: Path
) -> None:
    owner, stranger = stack.create_token(), stack.create_token(owner="someone-else@uptrack")

    # Given a reference made through POST /references from one rep of a shared squat clip
    reference_id, made, made_s = _create_reference(stack, owner, media_dir / REFERENCE_CLIP)
    assert [m["type"] for m in made] == ["initialization", "environment", "initialization"], made
    assert made[-1]["message"] == "Analysis completed"
    status, view = _request(f"{stack.http_url}/references/{reference_id}", token=owner)
    assert status == 200 and view["status"] == "completed" and view["name"] == "sq", view
    assert 500 <= view["durationMs"] <= 1000 * (REFERENCE_SPAN_S[1] - REFERENCE_SPAN_S[0]) + 100

    # And its signature is the one `uptrack reference create --start --end` makes from the same clip
    document = stack.client("s3").get_object(Bucket=stack.bucket, Key=signature_key(hash_token(owner), reference_id))
    stored = ReferenceMovement.model_validate_json(document["Body"].read())
    start, end = REFERENCE_SPAN_S
    cli = create_reference(clip_series(media_dir / REFERENCE_CLIP, start, end, MODELS), "x", 1000 * start, 1000 * end)
    assert stored.owner == hash_token(owner) and stored.id == reference_id
    np.testing.assert_allclose(stored.frames, cli.frames, atol=1e-4)

    # When the owner uploads another shared squat clip with reference=ID
    target = next(row for row in manifest if row["file"] == TARGET_CLIP)
    clip = media_dir / TARGET_CLIP
    began = time.monotonic()
    status, created = _request(
        f"{stack.http_url}/uploads?token={owner}&reference={reference_id}",
        {"contentType": "video/mp4", "contentLength": clip.stat().st_size},
    )
    assert status == 201, created
    subscriber = Subscriber(f"{created['websocketUrl']}&token={owner}").start()
    assert put(created["upload"], clip.read_bytes()) == 200
    received = subscriber.wait(240)
    upload_s = time.monotonic() - began

    # Then the reps are counted within one of the manifest's true count, each scored against the reference
    final = next(m for m in received if m["type"] == "counter" and m.get("final"))
    summary = next(m for m in received if m["type"] == "exercise_summary")
    true_reps = int(target["true_reps"])
    assert abs(final["current_count"] - true_reps) <= 1, (final["current_count"], true_reps)
    reps = [m for m in received if m["type"] == "counter" and not m.get("final")]
    assert all("overallScore" in m["reference_score"] for m in reps)
    assert summary["reference"] == reference_id and summary["avg_similarity"] is not None
    assert received[-1]["type"] == "initialization" and received[-1]["message"] == "Analysis completed"

    # And exactly as `uptrack analyze --reference` with the same signature counts them
    store = LocalReferenceStore(tmp_path / "references")
    store.put(stored)
    info = probe_video(clip)
    expected = [
        dump_message(m)
        for m in analyze_path(
            clip,
            _request_of(f"token={owner}&reference={reference_id}"),
            LocalRun(
                settings=MODELS,
                chunk_frames=chunk_frames_for(info, ServiceSettings.from_env()),
                references=store,
                owner=stored.owner,
            ),
        )
    ]
    assert _bare(received) == _bare(expected)

    # And another tenant's token gets reference_not_found for that id, at POST /uploads, unmetered
    tokens = DynamoDbTokenStore(stack.client("dynamodb"), stack.names["TokensTable"])
    usage_before = tokens.get(hash_token(stranger))
    status, refused = _request(
        f"{stack.http_url}/uploads?token={stranger}&reference={reference_id}",
        {"contentType": "video/mp4", "contentLength": clip.stat().st_size},
    )
    assert status == 404 and refused["code"] == "reference_not_found", refused
    assert tokens.get(hash_token(stranger)) == usage_before
    assert _request(f"{stack.http_url}/references/{reference_id}", token=stranger)[1]["code"] == "reference_not_found"
    print(
        f"\nreference e2e: made from {REFERENCE_CLIP} {start}-{end} s in {made_s:.1f} s "
        f"({len(stored.frames)} signature frames, {view['durationMs']} ms); {TARGET_CLIP}: counted "
        f"{final['current_count']} (true {true_reps}), avg_similarity {summary['avg_similarity']}, "
        f"create -> final message {upload_s:.1f} s; another token: {status} {refused['code']}"
    )


def test_a_reference_gone_before_the_analysis_is_a_typed_error_for_the_subscriber(
    stack: LocalStack, media_dir: Path
) -> None:
    token = stack.create_token()
    reference_id, made, _ = _create_reference(stack, token, media_dir / REFERENCE_CLIP)
    assert made[-1]["type"] == "initialization"
    status, created = _request(
        f"{stack.http_url}/uploads?token={token}&reference={reference_id}",
        {"contentType": "video/mp4", "contentLength": SAMPLE_VIDEO.stat().st_size},
    )
    assert status == 201
    # the signature is deleted between POST /uploads and the PUT
    stack.client("s3").delete_object(Bucket=stack.bucket, Key=signature_key(hash_token(token), reference_id))
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], SAMPLE_VIDEO.read_bytes()) == 200
    received = subscriber.wait(120)
    assert [m["type"] for m in received] == ["initialization", "environment", "error"]
    assert received[-1]["code"] == "reference_not_found"
    assert all(e["name"] != created["uploadId"] for e in stack.executions())  # failed before any inference
