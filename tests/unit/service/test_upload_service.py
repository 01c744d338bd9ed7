"""Admission (`create_upload`) on the in-memory adapters: what is checked before a call is metered, and what is made.

Until now only the moto stack exercised this path; these run the same logic with the memory doubles, so each rule is
checked on its own: the presigned PUT, the fetch launch, and every refusal leaving nothing stored and nothing charged.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.plans import MAX_UPLOADS_IN_FLIGHT, Plan
from uptrack.contract.tokens import hash_token
from uptrack_service.api.slots import LONGEST_UPLOAD_S, PUT_GRACE_S
from uptrack_service.api.upload_service import UploadBody, create_upload, fetch_media, get_upload, owned_upload
from uptrack_service.keys import media_key
from uptrack_service.models import Outcome, Status, UploadKind

from tests.support.service_world import ServiceWorld, memory_settings

BODY = UploadBody(content_type="video/mp4", content_length=1234)


def _refused(
    world: ServiceWorld, query: str, body: UploadBody = BODY, kind: UploadKind = UploadKind.ANALYSIS
) -> UptrackError:
    with pytest.raises(UptrackError) as refused:
        create_upload(query, body, world.upload_deps(), kind)
    return refused.value


def test_a_file_upload_gets_a_put_bound_to_its_type_and_size_and_costs_one_call() -> None:
    world = ServiceWorld()
    token = world.token()
    created = create_upload(f"token={token}&exercise=squat", BODY, world.upload_deps())
    record = world.uploads.get(created.upload_id)
    assert record is not None and record.status is Status.AWAITING_UPLOAD
    assert record.object_key == media_key(created.upload_id) and record.content_type == "video/mp4"
    assert created.upload is not None and created.upload.headers["Content-Length"] == "1234"
    assert created.websocket_url == f"wss://ws.example/prod?uploadId={created.upload_id}"
    assert world.calls(token) == 1 and world.fetcher.launched == []


def test_a_video_src_upload_starts_the_fetch_and_has_nothing_to_put() -> None:
    world = ServiceWorld()
    token = world.token()
    query = f"token={token}&videoSrc=https://media.example/squat.mp4"
    created = create_upload(query, UploadBody(), world.upload_deps())
    assert created.upload is None and created.status == Status.FETCHING.value
    assert world.fetcher.launched == [created.upload_id] and world.calls(token) == 1


@pytest.mark.parametrize("port", ["99999", "abc", "-1", "8080"])
def test_a_video_src_port_that_cannot_be_fetched_is_refused_before_it_is_charged(port: str) -> None:
    world = ServiceWorld()
    token = world.token()
    error = _refused(world, f"token={token}&videoSrc=https://media.example:{port}/squat.mp4", UploadBody())
    assert error.code is ErrorCode.INVALID_PARAMS and error.details == {"param": "videoSrc"}
    assert world.calls(token) == 0 and world.uploads.records == {} and world.fetcher.launched == []


def test_a_port_the_settings_allow_is_admitted() -> None:
    world = ServiceWorld(settings=memory_settings(fetch_allowed_ports="80,443,8080"))
    token = world.token()
    created = create_upload(f"token={token}&imageSrc=http://media.example:8080/p.jpg&source=image", UploadBody(),
                            world.upload_deps())  # fmt: skip
    assert world.fetcher.launched == [created.upload_id]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (UploadBody(content_type="video/mp4"), ErrorCode.INVALID_PARAMS),
        (UploadBody(content_type="application/x-sh", content_length=10), ErrorCode.INVALID_PARAMS),
        (UploadBody(content_type="video/mp4", content_length=501 * 2**20), ErrorCode.MEDIA_TOO_LARGE),
    ],
)
def test_bad_declarations_are_refused_before_anything_is_stored_or_charged(body: UploadBody, code: ErrorCode) -> None:
    world = ServiceWorld()
    token = world.token()
    assert _refused(world, f"token={token}&exercise=squat", body).code is code
    assert world.calls(token) == 0 and world.uploads.records == {}


def test_a_reference_movement_must_be_a_video() -> None:
    world = ServiceWorld()
    token = world.token()
    error = _refused(world, f"token={token}&source=image", kind=UploadKind.REFERENCE)
    assert error.code is ErrorCode.INVALID_PARAMS and world.calls(token) == 0


def test_an_unknown_token_is_refused_and_nothing_is_stored() -> None:
    world = ServiceWorld()
    assert _refused(world, "token=upt_unknown&exercise=squat").code is ErrorCode.INVALID_TOKEN
    assert _refused(world, "exercise=squat").code is ErrorCode.MISSING_TOKEN
    assert world.uploads.records == {}


@pytest.mark.parametrize("garbage", ["", "x" * 3000, "../media/x", "3F2B8C1E-9A4D-4E6F-8B2A-1C5D7E9F0A12"])
def test_an_id_that_cannot_be_an_upload_reads_like_an_unknown_one(garbage: str) -> None:
    with pytest.raises(UptrackError) as refused:
        owned_upload(ServiceWorld().uploads, garbage, "upt_any")
    assert refused.value.code is ErrorCode.UPLOAD_NOT_FOUND


def test_get_upload_pages_from_after_seq_for_the_owner_only() -> None:
    world = ServiceWorld()
    token = world.token()
    created = create_upload(f"token={token}&exercise=squat", BODY, world.upload_deps())
    view = get_upload(created.upload_id, token, 0, world.upload_deps())
    assert view.status == Status.AWAITING_UPLOAD.value and view.messages == []
    stranger = world.token()
    with pytest.raises(UptrackError) as refused:
        get_upload(created.upload_id, stranger, 0, world.upload_deps())
    assert refused.value.code is ErrorCode.UPLOAD_NOT_FOUND


def test_fetch_ignores_an_upload_that_is_not_waiting_for_its_media() -> None:
    world = ServiceWorld()
    token = world.token()
    created = create_upload(f"token={token}&exercise=squat", BODY, world.upload_deps())
    assert fetch_media(created.upload_id, world.upload_deps()) is Outcome.IGNORED
    assert fetch_media("3f2b8c1e-9a4d-4e6f-8b2a-1c5d7e9f0a12", world.upload_deps()) is Outcome.IGNORED


# -- uploads in flight per token (the plan's limit) ---------------------------------------------------------------


def _fill(world: ServiceWorld, token: str, count: int) -> list[str]:
    return [create_upload(f"token={token}", BODY, world.upload_deps()).upload_id for _ in range(count)]


def test_a_token_at_its_plans_limit_is_refused_before_it_is_charged() -> None:
    world = ServiceWorld()
    token = world.token(Plan.FREE)
    _fill(world, token, MAX_UPLOADS_IN_FLIGHT[Plan.FREE])
    error = _refused(world, f"token={token}")
    assert error.code is ErrorCode.TOO_MANY_UPLOADS and error.details == {"limit": MAX_UPLOADS_IN_FLIGHT[Plan.FREE]}
    assert world.calls(token) == MAX_UPLOADS_IN_FLIGHT[Plan.FREE] and len(world.uploads.records) == 2
    assert create_upload(f"token={world.token(Plan.FREE)}", BODY, world.upload_deps())  # another token is not held


def test_an_upload_that_ended_frees_its_slot() -> None:
    world = ServiceWorld()
    token = world.token(Plan.FREE)
    first, second = _fill(world, token, 2)
    world.uploads.transition(first, Status.COMPLETED, (Status.AWAITING_UPLOAD,))
    world.uploads.transition(second, Status.FAILED, (Status.AWAITING_UPLOAD,))
    assert len(_fill(world, token, 2)) == 2
    assert _refused(world, f"token={token}").code is ErrorCode.TOO_MANY_UPLOADS


def test_an_upload_never_sent_frees_its_slot_once_its_put_window_closed() -> None:
    world = ServiceWorld()
    token = world.token(Plan.FREE)
    _fill(world, token, 2)
    world.now += timedelta(seconds=world.settings.upload_url_expiry_s)
    assert _refused(world, f"token={token}").code is ErrorCode.TOO_MANY_UPLOADS  # a PUT may still be streaming
    world.now += timedelta(seconds=PUT_GRACE_S + 1)
    assert _fill(world, token, 1)


def test_a_running_upload_holds_its_slot_until_it_ends_or_an_hour_passed() -> None:
    world = ServiceWorld()
    token = world.token(Plan.FREE)
    for upload_id in _fill(world, token, 2):
        world.uploads.transition(upload_id, Status.PROCESSING, (Status.AWAITING_UPLOAD,))
    world.now += timedelta(seconds=LONGEST_UPLOAD_S - 1)
    assert _refused(world, f"token={token}").code is ErrorCode.TOO_MANY_UPLOADS
    world.now += timedelta(seconds=1)
    assert _fill(world, token, 1)


def test_a_refusal_after_the_slot_was_taken_gives_it_back() -> None:
    world = ServiceWorld()
    token = world.token(Plan.FREE, quota=1)
    (first,) = _fill(world, token, 1)
    assert _refused(world, f"token={token}").code is ErrorCode.QUOTA_EXCEEDED
    held = world.tokens.get(hash_token(token))
    assert held is not None and [slot.split("@")[0] for slot in held.in_flight] == [first]


def test_a_fetch_of_a_url_with_an_invalid_port_fails_typed_instead_of_staying_fetching() -> None:
    """Admission refuses such URLs now; one stored before (or reached by a redirect) still ends as a typed error."""
    world = ServiceWorld(settings=memory_settings(fetch_allowed_ports="*"))
    token = world.token()
    created = create_upload(f"token={token}&videoSrc=https://media.example/a.mp4", UploadBody(), world.upload_deps())
    record = world.uploads.get(created.upload_id)
    assert record is not None
    broken = {**record.request, "videoSrc": "https://media.example:99999/a.mp4"}
    world.uploads.records[created.upload_id] = record.model_copy(update={"request": broken})
    assert fetch_media(created.upload_id, world.upload_deps()) is Outcome.REJECTED
    failed = world.uploads.get(created.upload_id)
    assert failed is not None and failed.status is Status.FAILED and failed.error_code == "video_load_error"
