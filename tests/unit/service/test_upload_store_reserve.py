"""`UploadStore.reserve(while_open=True)` on both stores: the condition that keeps a late `progress` from following
an upload's last message has to hold in DynamoDB's conditional update, not only in the in-memory fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from uptrack_service.adapters.dynamodb_tables import create_table
from uptrack_service.adapters.dynamodb_uploads import KEY, DynamoDbUploadStore
from uptrack_service.adapters.memory import MemoryUploadStore
from uptrack_service.models import OPEN, Status
from uptrack_service.ports import UploadStore

from tests.support.service_world import UPLOAD, ServiceWorld


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[UploadStore]:
    if request.param == "memory":
        yield MemoryUploadStore()
        return
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "uploads", KEY)
        yield DynamoDbUploadStore(client, "uploads")


@pytest.mark.parametrize("ended", [Status.FAILED, Status.COMPLETED])
def test_an_ended_upload_reserves_nothing_new_while_open_but_keeps_what_it_reserved(
    store: UploadStore, ended: Status
) -> None:
    ServiceWorld(uploads=store).add_upload()  # type: ignore[arg-type]
    before = store.reserve(UPLOAD, "progress-00000", 1, 90, while_open=True)
    assert (before.start, before.count, before.fresh) == (1, 1, True)
    assert store.transition(UPLOAD, ended, OPEN)
    late = store.reserve(UPLOAD, "progress-00002", 1, 33, while_open=True)
    assert late.count == 0 and not late.fresh
    again = store.reserve(UPLOAD, "progress-00000", 1, 90, while_open=True)
    assert (again.start, again.count, again.fresh) == (1, 1, False)
    last = store.reserve(UPLOAD, "error", 1)  # the ending step's own stage is not conditioned on the status
    assert (last.start, last.count) == (2, 1)
    record = store.get(UPLOAD)
    assert record is not None and record.next_seq == 3 and record.frames_done == 90
    assert "progress-00002" not in record.stage_start
