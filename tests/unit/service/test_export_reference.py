"""Export plan, the aggregator's export and reference branches, the S3 reference store, reference bodies and clips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws
from uptrack.chunks import ChunkSpec
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import CounterMessage, FormScore, InitializationMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.export import Overlay, drawing_request
from uptrack.media import Frame, VideoInfo
from uptrack.pipeline import video_messages
from uptrack.reference.signature import ReferenceMovement
from uptrack.smoothing import smooth_series
from uptrack_service.adapters.memory import (
    MemoryObjectStore,
    MemoryUploadStore,
)
from uptrack_service.adapters.s3_references import S3ReferenceStore
from uptrack_service.api.references import ReferenceBody
from uptrack_service.keys import chunk_key, export_plan_key, manifest_key, media_key, segment_key, signature_key
from uptrack_service.models import AnalysisInput, ChunkItem, ReferenceClip, Status, stored_request
from uptrack_service.pipeline.aggregation import AggregationDeps, aggregate
from uptrack_service.pipeline.exporting import ExportPlan
from uptrack_service.pipeline.inference import AnalysisTaskError
from uptrack_service.pipeline.reference_processing import clip_frames
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO
from tests.support.service_world import UPLOAD, ServiceWorld

OWNER = "a" * 64
POSES = REPO / "tests" / "data" / "poses" / "squat_side_overlay_3reps_msoldo.npz"


def _movement(owner: str = OWNER, reference_id: str = UPLOAD) -> ReferenceMovement:
    return ReferenceMovement(
        id=reference_id,
        owner=owner,
        name="squat",
        created_at=datetime(2026, 11, 25, tzinfo=UTC),
        model="movenet_lightning",
        start_ms=4800,
        end_ms=6267,
        frames=[[0.1 * i] * 12 for i in range(23)],
    )


# -- S3ReferenceStore on moto ------------------------------------------------------------------------------------


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="bucket")
        yield client


def test_s3_store_scopes_every_read_by_owner(s3: Any) -> None:
    store = S3ReferenceStore(s3, "bucket")
    store.put(_movement())
    assert store.get(UPLOAD, OWNER) == _movement()
    assert store.exists(UPLOAD, OWNER) and not store.exists(UPLOAD, "b" * 64)
    summary = store.summary(UPLOAD, OWNER)
    assert summary is not None and summary["duration_ms"] == round(1000 * 22 / 15) and "frames" not in summary
    assert [m.id for m in store.list_references(OWNER)] == [UPLOAD] and store.list_references("b" * 64) == []
    for reference_id, owner in ((UPLOAD, "b" * 64), ("missing", OWNER), ("../" + UPLOAD, OWNER)):
        with pytest.raises(UptrackError) as missing:
            store.get(reference_id, owner)
        assert missing.value.code is ErrorCode.REFERENCE_NOT_FOUND
        assert store.summary(reference_id, owner) is None and not store.exists(reference_id, owner)
    with pytest.raises(UptrackError):
        store.delete(UPLOAD, "b" * 64)
    store.delete(UPLOAD, OWNER)
    assert not store.exists(UPLOAD, OWNER)


def test_s3_store_refuses_a_document_claiming_another_owner(s3: Any) -> None:
    forged = _movement(owner="b" * 64).model_dump_json()
    s3.put_object(Bucket="bucket", Key=signature_key(OWNER, UPLOAD), Body=forged.encode())
    store = S3ReferenceStore(s3, "bucket")
    with pytest.raises(UptrackError):
        store.get(UPLOAD, OWNER)
    assert store.summary(UPLOAD, OWNER) is None
    with pytest.raises(ValueError):
        store.exists(UPLOAD, "owner/with/slashes")


# -- export plan ---------------------------------------------------------------------------------------------------


def test_export_plan_round_trips_poses_marks_and_the_closing_message() -> None:
    series = load_series(POSES.read_bytes())
    closing = InitializationMessage(message="Analysis completed", ready=True, source="video", timestamp_ms=9964)
    messages = [
        CounterMessage(current_count=1, form_score=FormScore.of(91, 91), timestamp_ms=4100),
        CounterMessage(current_count=2, timestamp_ms=6500),
        closing,
    ]
    plan = ExportPlan.of(series, messages)
    again = ExportPlan.from_bytes(plan.to_bytes())
    np.testing.assert_array_equal(again.overlay.frame_index, plan.overlay.frame_index)
    np.testing.assert_array_equal(again.overlay.coco, plan.overlay.coco)
    assert again.overlay.marks == plan.overlay.marks and [m.grade for m in again.overlay.marks] == ["A", None]
    assert again.closing == closing


def test_export_plan_draws_what_the_local_export_draws_cues_and_angle_labels_included() -> None:
    curl = load_series((POSES.parent / "curl_bad-form-3_then-good-form_bajpai.npz").read_bytes())
    request = AnalysisRequest(exercise="bicep_curl", export=True)
    messages = video_messages(curl, drawing_request(request))
    local = Overlay.of(smooth_series(curl), messages)
    plan = ExportPlan.from_bytes(ExportPlan.of(smooth_series(curl), messages).to_bytes())
    assert plan.overlay.cues == local.cues and plan.overlay.joints == local.joints == ("shoulder", "elbow")
    assert plan.overlay.marks == local.marks and [cue.grade for cue in local.cues][:3] == ["C", "D", "D"]
    for cue in local.cues:
        shown_ms = cue.time_ms + 100  # the clip runs at 30 fps
        frame = Frame(shown_ms * 30 // 1000, shown_ms, np.full((720, 406, 3), 128, dtype=np.uint8))
        assert np.array_equal(plan.overlay.draw(frame), local.draw(frame))


# -- the aggregator's export and reference branches -------------------------------------------------------------


def _world(query: dict[str, Any]) -> tuple[AggregationDeps, MemoryObjectStore, MemoryUploadStore]:
    world = ServiceWorld()
    world.add_upload(stored_request(AnalysisRequest(**query)), token_hash=OWNER)
    world.objects.put_bytes(chunk_key(UPLOAD, 0), load_series(POSES.read_bytes()).to_bytes(), "application/x-npz")
    item = ChunkItem(index=0, start=0, stop=280, key=chunk_key(UPLOAD, 0))
    world.objects.put_bytes(manifest_key(UPLOAD), json.dumps([item.model_dump()]).encode(), "application/json")
    return world.aggregation_deps(), world.objects, world.uploads


PAYLOAD = AnalysisInput(
    upload_id=UPLOAD, bucket="memory", media_key=media_key(UPLOAD), source="video", manifest_key=manifest_key(UPLOAD)
)


def _stage(objects: MemoryObjectStore, stage: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = json.loads(objects.get_bytes(segment_key(UPLOAD, stage)))["messages"]
    return messages


def test_with_export_the_aggregator_holds_back_the_closing_message_and_writes_the_plan() -> None:
    deps, objects, uploads = _world({"exercise": "squat", "export": True})
    result = aggregate(PAYLOAD, deps)
    assert result.export is True and result.status == "exporting"
    delivered = _stage(objects, "final")
    assert delivered[-1]["type"] == "exercise_summary"  # the closing initialization waits for export_ready
    plan = ExportPlan.from_bytes(objects.get_bytes(export_plan_key(UPLOAD)))
    assert isinstance(plan.closing, InitializationMessage) and plan.closing.message == "Analysis completed"
    counted = [m for m in delivered if m["type"] == "counter" and not m.get("final")]
    assert [mark.count for mark in plan.overlay.marks] == [m["current_count"] for m in counted]
    assert plan.overlay.joints == ("knee",) and "recommendations" not in {m["type"] for m in delivered}
    record = uploads.get(UPLOAD)
    assert record is not None and record.status is Status.PROCESSING  # completed by the joiner


def test_without_export_nothing_changes() -> None:
    deps, objects, uploads = _world({"exercise": "squat"})
    assert aggregate(PAYLOAD, deps).export is False
    assert _stage(objects, "final")[-1]["message"] == "Analysis completed"
    assert objects.head(export_plan_key(UPLOAD)) is None
    record = uploads.get(UPLOAD)
    assert record is not None and record.status is Status.COMPLETED


def test_an_unknown_reference_at_aggregation_is_a_typed_error(tmp_path: Any) -> None:
    from uptrack_service.cli.reference_store import LocalReferenceStore

    deps, objects, uploads = _world({"reference": "not-mine"})
    store = LocalReferenceStore(tmp_path)
    store.put(_movement(owner="b" * 64).model_copy(update={"id": "not-mine"}))  # another owner's
    deps.references = store
    with pytest.raises(AnalysisTaskError) as failed:
        aggregate(PAYLOAD, deps)
    assert failed.value.error.code is ErrorCode.REFERENCE_NOT_FOUND
    assert [m["type"] for m in _stage(objects, "error")] == ["error"]
    record = uploads.get(UPLOAD)
    assert record is not None and record.status is Status.FAILED and record.error_code == "reference_not_found"


# -- reference bodies and clip ranges ------------------------------------------------------------------------------


def test_reference_body_checks_the_range_and_keeps_a_clean_label() -> None:
    body = ReferenceBody.model_validate({"contentLength": 10, "start": 4.67, "end": 6.4, "name": " squat\x00 rep "})
    assert body.clip() == ReferenceClip(start_s=4.67, end_s=6.4, name="squat rep")
    assert body.upload_body().content_length == 10
    for bad in ({"start": 3, "end": 2}, {"start": 0, "end": 61}):
        with pytest.raises(UptrackError) as refused:
            ReferenceBody.model_validate({"contentLength": 10, **bad})
        assert refused.value.code is ErrorCode.INVALID_PARAMS


def test_clip_frames_add_context_and_stay_inside_the_video() -> None:
    info = VideoInfo(codec="h264", fps=30.0, frame_count=322, duration_s=10.73, width=960, height=544, rotation=0)
    assert clip_frames(info, ReferenceClip(start_s=4.67, end_s=6.4)) == ChunkSpec(0, 89, 243)
    assert clip_frames(info, ReferenceClip()) == ChunkSpec(0, 0, 322)
    assert clip_frames(info, ReferenceClip(start_s=0.2, end_s=30)) == ChunkSpec(0, 0, 322)
    for bad in (ReferenceClip(start_s=11.0), ReferenceClip(start_s=5, end_s=4)):
        with pytest.raises(UptrackError):
            clip_frames(info, bad)
    long = VideoInfo(codec="h264", fps=30.0, frame_count=3000, duration_s=100.0, width=9, height=9, rotation=0)
    with pytest.raises(UptrackError, match="at most"):
        clip_frames(long, ReferenceClip())


# -- the zip functions never load the pose stack ------------------------------------------------------------------

ZIP_IMPORTS = """
import importlib.abc, importlib.util, io, json, sys
from botocore.exceptions import ClientError

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"numpy", "cv2", "onnxruntime", "dtaidistance", "imageio_ffmpeg"}:
            raise ImportError(name + " is not in the zip functions' layers")
        return None

sys.meta_path.insert(0, Block())
for name in ("create_upload", "create_reference", "get_reference"):
    spec = importlib.util.spec_from_file_location("app_" + name, f"functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

from uptrack_service.adapters.s3_references import S3ReferenceStore

class Client:
    def head_object(self, Bucket, Key):
        if "missing" in Key:
            raise ClientError({"Error": {"Code": "404"}}, "HeadObject")
        return {}
    def get_object(self, Bucket, Key):
        owner, name = Key.split("/")[1:]
        document = {"id": name[:-5], "owner": owner, "name": "n", "hz": 15.0, "frames": [[0.0]] * 16}
        return {"Body": io.BytesIO(json.dumps(document).encode())}

store = S3ReferenceStore(Client(), "bucket")
assert store.exists("abc", "o" * 64) and not store.exists("missing", "o" * 64)
assert store.summary("abc", "o" * 64)["duration_ms"] == 1000
print("light")
"""


def test_zip_functions_check_references_without_numpy() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", ZIP_IMPORTS], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "light", done.stderr
