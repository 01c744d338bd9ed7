"""The validation function's logic on the in-memory adapters: real media probed, the analysis started once.

The orchestrator double records executions with Step Functions' duplicate-name rule, so the at-least-once S3
event is checked here without moto: one start per upload, foreign keys ignored, bad media a typed error.
"""

from __future__ import annotations

import json

from uptrack_service.api.upload_service import UploadBody, create_upload
from uptrack_service.keys import manifest_key, media_key
from uptrack_service.models import AnalysisInput, Outcome, Status
from uptrack_service.pipeline.validation import validate_object

from tests.support.corpus import SAMPLE_VIDEO
from tests.support.service_world import ServiceWorld


def _reserved(world: ServiceWorld, source: str = "video") -> str:
    body = UploadBody(content_type="video/mp4" if source == "video" else "image/jpeg", content_length=10**6)
    created = create_upload(f"token={world.token()}&source={source}", body, world.upload_deps())
    return created.upload_id


def _stage_types(world: ServiceWorld, upload_id: str, stage: str) -> list[str]:
    stored = json.loads(world.objects.get_bytes(f"messages/{upload_id}/{stage}.json"))["messages"]
    return [str(message["type"]) for message in stored]


def test_a_video_is_probed_planned_and_started_once() -> None:
    world = ServiceWorld()
    upload_id = _reserved(world)
    world.objects.put_bytes(media_key(upload_id), SAMPLE_VIDEO.read_bytes(), "video/mp4")
    deps = world.validation_deps()
    assert validate_object("memory", media_key(upload_id), deps) is Outcome.STARTED
    assert validate_object("memory", media_key(upload_id), deps) is Outcome.DUPLICATE
    started = AnalysisInput.model_validate(world.orchestrator.executions[upload_id])
    assert list(world.orchestrator.executions) == [upload_id]
    assert started.video is not None and started.manifest_key == manifest_key(upload_id)
    chunks = json.loads(world.objects.get_bytes(manifest_key(upload_id)))
    assert chunks[0]["start"] == 0 and chunks[-1]["stop"] == started.video.frame_count
    record = world.uploads.get(upload_id)
    assert record is not None and record.status is Status.PROCESSING
    assert record.frames_total == started.video.frame_count and record.chunk_count == len(chunks)


def test_objects_that_are_not_an_upload_are_ignored() -> None:
    world = ServiceWorld()
    upload_id = _reserved(world)
    deps = world.validation_deps()
    assert validate_object("another-bucket", media_key(upload_id), deps) is Outcome.IGNORED
    assert validate_object("memory", f"other/{upload_id}/source", deps) is Outcome.IGNORED
    assert validate_object("memory", media_key("3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a12"), deps) is Outcome.IGNORED
    assert world.orchestrator.executions == {}


def test_an_empty_object_and_a_photo_sent_as_a_video_are_typed_errors() -> None:
    world = ServiceWorld()
    empty, photo = _reserved(world), _reserved(world)
    world.objects.put_bytes(media_key(empty), b"", "video/mp4")
    world.objects.put_bytes(media_key(photo), b"\xff\xd8\xff\xe0" + b"\x00" * 200, "video/mp4")
    for upload_id in (empty, photo):
        assert validate_object("memory", media_key(upload_id), world.validation_deps()) is Outcome.REJECTED
        record = world.uploads.get(upload_id)
        assert record is not None and record.status is Status.FAILED and record.error_code == "video_load_error"
        assert _stage_types(world, upload_id, "error") == ["error"]
    assert world.orchestrator.executions == {}
