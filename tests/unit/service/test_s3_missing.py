"""A missing key is "not found" whether S3 answers 404 or 403, on moto both ways.

S3 answers a GET/HEAD of a missing key with 404 only when the caller may s3:ListBucket the bucket; otherwise with
403 AccessDenied. Several functions have ListBucket only under an `s3:prefix` condition, which a GET never
satisfies, so on AWS they get the 403. moto always answers 404: `s3_without_list_bucket` answers like S3 does for
such a caller (403 for a key that is not there, the object for one that is).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws
from uptrack_service.adapters.s3_references import S3ReferenceStore
from uptrack_service.adapters.s3_store import S3ObjectStore
from uptrack_service.keys import signature_key
from uptrack_service.ports import ObjectMissingError

BUCKET = "uptrack-missing-keys"
OWNER = "a" * 64
DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
)


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@pytest.fixture(params=["404", "403"])
def answer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def s3(answer: str) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        if answer == "403":
            _without_list_bucket(client)
        yield client


def _without_list_bucket(client: Any) -> None:
    """Answer GET/HEAD of an absent key with S3's 403 AccessDenied (HEAD: no body), ahead of moto."""
    lister = boto3.client("s3", region_name="us-east-1")

    def deny_missing(request: Any, **_: Any) -> AWSResponse | None:
        url = urlsplit(request.url)
        path = unquote(url.path)
        key = path[1:] if url.netloc.startswith(f"{BUCKET}.") else path.removeprefix(f"/{BUCKET}/")
        if request.method not in ("GET", "HEAD") or not key or key == path:
            return None
        if lister.list_objects_v2(Bucket=BUCKET, Prefix=key).get("KeyCount", 0):
            return None
        body = b"" if request.method == "HEAD" else DENIED
        return AWSResponse(request.url, 403, {"Content-Type": "application/xml"}, _Body(body))  # type: ignore[arg-type]

    client.meta.events.register_first("before-send.s3", deny_missing)


def test_a_missing_object_is_missing(s3: Any) -> None:
    store = S3ObjectStore(s3, BUCKET)
    assert store.head("messages/nothing/final.json") is None
    with pytest.raises(ObjectMissingError):
        store.get_bytes("messages/nothing/final.json")
    with pytest.raises(ObjectMissingError):
        store.read_head("media/nothing/source", 64)


def test_a_present_object_still_reads(s3: Any) -> None:
    store = S3ObjectStore(s3, BUCKET)
    store.put_bytes("messages/there/final.json", b"[]", "application/json")
    assert store.get_bytes("messages/there/final.json") == b"[]"
    info = store.head("messages/there/final.json")
    assert info is not None and info.size == 2


def test_a_missing_reference_is_not_found(s3: Any) -> None:
    references = S3ReferenceStore(s3, BUCKET)
    assert references.exists("ref-1", OWNER) is False
    assert references.summary("ref-1", OWNER) is None
    document = {"id": "ref-1", "owner": OWNER, "name": "squat", "frames": [], "hz": 10}
    s3.put_object(Bucket=BUCKET, Key=signature_key(OWNER, "ref-1"), Body=json.dumps(document).encode())
    assert references.exists("ref-1", OWNER) is True
    assert references.summary("ref-1", OWNER) == {"id": "ref-1", "name": "squat", "hz": 10}


def test_the_raw_answer_is_the_one_under_test(s3: Any, answer: str) -> None:
    """Both cases are real: the raw client sees AccessDenied (403) or NoSuchKey (404)."""
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=BUCKET, Key="messages/nothing/final.json")
    assert raised.value.response["Error"]["Code"] == {"403": "AccessDenied", "404": "NoSuchKey"}[answer]
    with pytest.raises(ClientError) as headed:
        s3.head_object(Bucket=BUCKET, Key="messages/nothing/final.json")
    assert headed.value.response["Error"]["Code"] == answer
