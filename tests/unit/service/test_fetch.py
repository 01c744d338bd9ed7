"""Safe fetch of videoSrc/imageSrc: refused targets, size cap, content type, redirects, one deadline."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import parse_query
from uptrack_service.adapters.memory import MemoryObjectStore
from uptrack_service.pipeline.fetch import FetchPolicy, address_allowed, check_media_url, fetch_into

LOOPBACK = FetchPolicy(max_bytes=1000, timeout_s=5, allow_loopback=True, allowed_ports=None)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # instance metadata
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 form of 127.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 form of 169.254.169.254
        ("64:ff9b::7f00:1", False),  # NAT64 form of 127.0.0.1
        ("2002:808:808::", True),  # 6to4 form of 8.8.8.8
    ],
)
def test_only_public_addresses_are_fetched(address: str, allowed: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address), allow_loopback=False) is allowed


def test_private_targets_are_refused_before_any_connection() -> None:
    policy = FetchPolicy(max_bytes=1000)
    with pytest.raises(UptrackError) as refused:
        fetch_into("http://169.254.169.254/latest/meta-data", "video", MemoryObjectStore(), "k", policy)
    assert refused.value.code == "video_load_error" and "private" in refused.value.message
    with pytest.raises(UptrackError) as rebinding:
        fetch_into("http://example.test/v.mp4", "video", MemoryObjectStore(), "k", policy, lambda h, p: ["10.0.0.7"])
    assert "private" in rebinding.value.message
    with pytest.raises(UptrackError) as port:
        fetch_into("http://example.test:25/v.mp4", "image", MemoryObjectStore(), "k", policy)
    assert port.value.code == "image_load_error" and "Port 25" in port.value.message
    with pytest.raises(UptrackError):
        fetch_into("file:///etc/passwd", "video", MemoryObjectStore(), "k", policy)


ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/small.mp4": (200, {"Content-Type": "video/mp4"}, b"x" * 500),
    "/big.mp4": (200, {"Content-Type": "video/mp4"}, b"x" * 5000),
    "/page.html": (200, {"Content-Type": "text/html"}, b"<html></html>"),
    "/to-metadata": (302, {"Location": "http://169.254.169.254/"}, b""),
    "/to-small": (301, {"Location": "/small.mp4"}, b""),
}


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = ROUTES.get(self.path, (404, {}, b""))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetch_streams_into_the_store_and_follows_safe_redirects(server: str) -> None:
    store = MemoryObjectStore()
    assert fetch_into(f"{server}/to-small", "video", store, "media/x/source", LOOPBACK) == 500
    assert store.get_bytes("media/x/source") == b"x" * 500


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/big.mp4", "larger than"), ("/page.html", "text/html"), ("/to-metadata", "private"), ("/nope", "HTTP 404")],
)
def test_fetch_failures_are_load_errors_and_leave_nothing(server: str, path: str, reason: str) -> None:
    store = MemoryObjectStore()
    with pytest.raises(UptrackError) as failed:
        fetch_into(f"{server}{path}", "video", store, "media/x/source", LOOPBACK)
    assert failed.value.code == "video_load_error" and reason in failed.value.message
    assert "127.0.0.1" not in failed.value.message
    assert store.objects == {}


def test_loopback_needs_the_local_setting(server: str) -> None:
    with pytest.raises(UptrackError):
        fetch_into(f"{server}/small.mp4", "video", MemoryObjectStore(), "k", FetchPolicy(1000, allowed_ports=None))


@pytest.mark.parametrize("address", ["2002:7f00:1::", "64:ff9b::7f00:1", "::ffff:127.0.0.1"])
def test_ipv6_forms_of_loopback_count_as_loopback(address: str) -> None:
    assert address_allowed(ipaddress.ip_address(address), allow_loopback=True)
    assert not address_allowed(ipaddress.ip_address(address), allow_loopback=False)


BAD_PORTS = ["99999", "abc", "-1"]


@pytest.mark.parametrize("port", BAD_PORTS)
def test_invalid_ports_are_refused_when_the_query_is_parsed(port: str) -> None:
    with pytest.raises(UptrackError) as refused:
        parse_query({"videoSrc": f"http://example.com:{port}/v.mp4"}, exercise_ids=())
    assert refused.value.code == ErrorCode.INVALID_PARAMS and refused.value.details == {"param": "videoSrc"}


@pytest.mark.parametrize("port", BAD_PORTS)
def test_invalid_ports_are_a_typed_fetch_error(port: str) -> None:
    with pytest.raises(UptrackError) as failed:
        fetch_into(f"http://example.com:{port}/v.mp4", "video", MemoryObjectStore(), "k", FetchPolicy(1000))
    assert failed.value.code == ErrorCode.VIDEO_LOAD_ERROR and "port" in failed.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:8080/v.mp4",  # a port the deployment does not allow
        "http://user:secret@example.com/v.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[2002:7f00:1::]/v.mp4",
        "ftp://example.com/v.mp4",
    ],
)
def test_urls_the_fetch_would_refuse_are_refused_before_the_upload_is_created(url: str) -> None:
    with pytest.raises(UptrackError) as refused:
        check_media_url(url, "videoSrc", FetchPolicy(1000))
    assert refused.value.code == ErrorCode.INVALID_PARAMS and refused.value.details == {"param": "videoSrc"}
    check_media_url("https://example.com/v.mp4", "videoSrc", FetchPolicy(1000))


# -- one deadline for the whole fetch ---------------------------------------------------------------------------

DEADLINE_S = 1.0
TRICKLE_S = 10.0
"""How long the slow server keeps trickling; the old per-read timeout waited for all of it."""


class _Trickler(socketserver.BaseRequestHandler):
    """Sends `at_once`, then `trickled` one byte every 0.2 s: every socket read succeeds, the whole never arrives
    in time."""

    at_once = b""
    trickled = b""

    def handle(self) -> None:
        self.request.recv(4096)
        ends = time.monotonic() + TRICKLE_S
        try:
            self.request.sendall(self.at_once)
            for byte in self.trickled:
                if time.monotonic() > ends:
                    return
                self.request.sendall(bytes([byte]))
                time.sleep(0.2)
        except OSError:
            return  # the client gave up, as it should


HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n"


TLS_RECORD = b"\x16\x03\x03\x40\x00"  # a handshake record announcing 16 KiB, which then trickles in


@pytest.mark.parametrize(
    ("scheme", "at_once", "trickled"),
    [
        ("http", b"", HEADERS + b"X-Padding: " + b"a" * 500 + b"\r\n\r\n"),
        ("http", HEADERS + b"\r\n", b"x" * 500),
        ("https", TLS_RECORD, b"\x02" * 500),
    ],
    ids=["slow_headers", "slow_body", "slow_tls_handshake"],
)
def test_a_server_that_trickles_is_cut_off_at_the_deadline(scheme: str, at_once: bytes, trickled: bytes) -> None:
    handler = type("Trickle", (_Trickler,), {"at_once": at_once, "trickled": trickled})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    store = MemoryObjectStore()
    policy = FetchPolicy(max_bytes=10_000, timeout_s=DEADLINE_S, allow_loopback=True, allowed_ports=None)
    began = time.monotonic()
    try:
        with pytest.raises(UptrackError) as failed:
            fetch_into(f"{scheme}://127.0.0.1:{server.server_address[1]}/v.mp4", "video", store, "k", policy)
    finally:
        server.shutdown()
        server.server_close()
    assert failed.value.code == ErrorCode.VIDEO_LOAD_ERROR and "took too long" in failed.value.message
    assert time.monotonic() - began < DEADLINE_S + 1.5
    assert store.objects == {}


def test_a_connect_that_hangs_is_cut_off_at_the_deadline() -> None:
    """A listening socket whose backlog is full never completes the handshake: connect waits."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    policy = FetchPolicy(max_bytes=1000, timeout_s=DEADLINE_S, allow_loopback=True, allowed_ports=None)
    began = time.monotonic()
    try:
        with pytest.raises(UptrackError) as failed:
            fetch_into(f"http://127.0.0.1:{port}/v.mp4", "video", MemoryObjectStore(), "k", policy)
    finally:
        listener.close()
    assert failed.value.code == ErrorCode.VIDEO_LOAD_ERROR
    assert time.monotonic() - began < DEADLINE_S + 1.5
