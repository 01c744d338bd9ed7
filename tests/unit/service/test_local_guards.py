"""The local stack's front doors, unit by unit: SigV4 as AWS checks it, the Host allow-list, request bodies read
only when small enough and fast enough."""

from __future__ import annotations

import io
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from uptrack_service.local.gateway import read_body
from uptrack_service.local.hosts import HostAllowList, hostname, is_local_request, is_loopback_address
from uptrack_service.local.motoserver import GuardedMoto
from uptrack_service.local.sigv4 import Credentials, SignedRequest, problem

OURS = Credentials.random()


def now() -> datetime:
    """The guard's clock at the moment of the check (signatures carry the time they were made: a module-level
    constant would drift past the allowed skew in a long test session)."""
    return datetime.now(UTC)


def _signed(method: str, url: str, body: bytes, headers: dict[str, str], credentials: Credentials) -> SignedRequest:
    """A request as botocore signs it for DynamoDB (header form), as the guard sees it on the wire."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    boto = BotoCredentials(credentials.access_key_id, credentials.secret_access_key)
    SigV4Auth(boto, "dynamodb", "us-east-1").add_auth(request)
    parts = urlsplit(url)
    sent = {name.lower(): str(value) for name, value in request.headers.items()} | {"host": parts.netloc}
    return SignedRequest(method, parts.path or "/", parts.query, sent, lambda: body)


def _presigned(credentials: Credentials, key: str = "media/a b+c.mp4", expires: int = 300) -> str:
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:4566",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    params = {"Bucket": "uploads", "Key": key, "ContentType": "video/mp4"}
    return str(s3.generate_presigned_url("put_object", Params=params, ExpiresIn=expires))


def _as_sent(url: str, method: str = "PUT", **headers: str) -> SignedRequest:
    parts = urlsplit(url)
    return SignedRequest(method, parts.path, parts.query, {"host": parts.netloc} | headers)


def test_a_request_signed_with_the_stacks_credentials_passes() -> None:
    body = b'{"Limit": 1}'
    request = _signed("POST", "http://127.0.0.1:5000/", body, {"X-Amz-Target": "DynamoDB_20120810.ListTables"}, OURS)
    assert problem(request, OURS, now()) is None


def test_any_other_credentials_or_a_changed_body_are_refused() -> None:
    body = b'{"Limit": 1}'
    theirs = Credentials(OURS.access_key_id, "guessed")
    assert problem(_signed("POST", "http://127.0.0.1:5000/", body, {}, Credentials.random()), OURS, now()) == (
        "unknown access key"
    )
    assert problem(_signed("POST", "http://127.0.0.1:5000/", body, {}, theirs), OURS, now()) == (
        "signature does not match"
    )
    tampered = _signed("POST", "http://127.0.0.1:5000/", body, {}, OURS)
    tampered = SignedRequest(tampered.method, tampered.raw_path, "", tampered.headers, lambda: b'{"Limit": 100}')
    assert problem(tampered, OURS, now()) == "signature does not match"
    assert problem(SignedRequest("GET", "/", "", {"host": "x"}), OURS, now()) == "missing or malformed signature"


def test_a_presigned_put_passes_for_its_key_only_until_it_expires() -> None:
    url = _presigned(OURS)
    assert problem(_as_sent(url, **{"content-type": "video/mp4"}), OURS, now()) is None
    assert problem(_as_sent(url, **{"content-type": "text/html"}), OURS, now()) == "signature does not match"
    other_key = url.replace("a%20b%2Bc.mp4", "other.mp4")
    assert problem(_as_sent(other_key, **{"content-type": "video/mp4"}), OURS, now()) == "signature does not match"
    assert problem(_as_sent(url, "DELETE"), OURS, now()) == "signature does not match"
    later = now() + timedelta(seconds=301)
    assert problem(_as_sent(url, **{"content-type": "video/mp4"}), OURS, later) == "request has expired"


def test_a_listener_for_some_services_refuses_the_others() -> None:
    request = _signed("POST", "http://127.0.0.1:5000/", b"{}", {}, OURS)
    assert problem(request, OURS, now(), frozenset({"s3"})) == "service not served here"


@pytest.mark.parametrize(
    ("header", "name"),
    [("127.0.0.1:8080", "127.0.0.1"), ("LocalHost", "localhost"), ("[::1]:80", "::1"), ("evil@127.0.0.1", None),
     ("a/b", None), ("host:99999", None), ("", None)],
)  # fmt: skip
def test_host_names_are_read_strictly(header: str, name: str | None) -> None:
    assert hostname(header) == name


def test_only_published_names_are_admitted_and_only_local_requests_are_local() -> None:
    hosts = HostAllowList.of("192.168.1.20")
    assert hosts.admits("192.168.1.20:8080") and hosts.admits("localhost:8080")
    assert not hosts.admits("attacker.example:8080") and not hosts.admits(None)
    assert is_loopback_address("127.0.0.9") and is_loopback_address("::ffff:127.0.0.1")
    assert not is_loopback_address("192.168.1.20") and not is_loopback_address("0.0.0.0")
    assert is_local_request("127.0.0.1", "localhost:8080")
    assert not is_local_request("127.0.0.1", "192.168.1.20:8080")  # the LAN name, even from this machine
    assert not is_local_request("192.168.1.30", "127.0.0.1:8080")  # another host claiming a loopback name


class _Body:
    """An HTTP server whose one handler records what `read_body` answered."""

    def __init__(self, limit: int, deadline_s: float) -> None:
        self.result: list[Any] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def do_POST(self) -> None:
                outer.result.append(read_body(self, limit, deadline_s))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.handle_request, daemon=True).start()

    def send(self, head: bytes, chunks: list[bytes], pause_s: float = 0.0) -> Any:
        with socket.create_connection(self.server.server_address[:2], timeout=10) as client:
            client.sendall(head)
            for chunk in chunks:
                time.sleep(pause_s)
                try:
                    client.sendall(chunk)
                except OSError:
                    break
            deadline = time.monotonic() + 10
            while not self.result and time.monotonic() < deadline:
                time.sleep(0.02)
        self.server.server_close()
        return self.result[0]


def test_a_body_declared_too_big_is_refused_before_a_byte_is_read() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n"
    began = time.monotonic()
    assert _Body(limit=1024, deadline_s=5).send(head, []) == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert time.monotonic() - began < 2


def test_a_body_sent_a_byte_at_a_time_is_cut_at_the_deadline() -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    began = time.monotonic()
    assert _Body(limit=1024, deadline_s=0.5).send(head, [b"x"] * 100, pause_s=0.1) == HTTPStatus.REQUEST_TIMEOUT
    assert time.monotonic() - began < 5


def test_a_chunked_body_is_refused_and_a_whole_one_is_read() -> None:
    chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert _Body(1024, 5).send(chunked, [b"5\r\nhello\r\n0\r\n\r\n"]) == HTTPStatus.LENGTH_REQUIRED
    whole = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    assert _Body(1024, 5).send(whole, [b"hel", b"lo"]) == b"hello"


def _through_guard(environ: dict[str, Any]) -> tuple[str, list[str]]:
    """(status, what reached moto) for one request through `GuardedMoto` in front of a recording app."""
    reached: list[str] = []

    def moto(env: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(str(env["REQUEST_METHOD"]))
        start_response("200 OK", [])
        return [b"moto"]

    statuses: list[str] = []
    guard = GuardedMoto(moto, OURS, HostAllowList.of(), admin_key="admin")
    base = {"HTTP_HOST": "127.0.0.1:5000", "PATH_INFO": "/", "RAW_URI": "/", "wsgi.input": io.BytesIO(b"{}")}
    guard(base | environ, lambda status, headers: statuses.append(status))
    return statuses[0], reached


def test_the_guard_answers_preflights_itself_and_lets_only_signed_or_admin_requests_reach_moto() -> None:
    target = {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.ListTables", "CONTENT_LENGTH": "2"}
    assert _through_guard({"REQUEST_METHOD": "OPTIONS"} | target) == ("200 OK", [])
    assert _through_guard({"REQUEST_METHOD": "POST"} | target)[0].startswith("403")
    assert _through_guard({"REQUEST_METHOD": "POST", "HTTP_HOST": "attacker.example"} | target)[0].startswith("403")
    api = {"REQUEST_METHOD": "POST", "PATH_INFO": "/moto-api/reset", "RAW_URI": "/moto-api/reset"}
    assert _through_guard(api)[0].startswith("403")
    assert _through_guard(api | {"HTTP_X_UPTRACK_ADMIN": "admin"}) == ("200 OK", ["POST"])
