"""Safe fetch of videoSrc/imageSrc: refused targets, size cap, content type, redirects."""

from __future__ import annotations

import http.server
import ipaddress
import threading
from collections.abc import Iterator

import pytest
from uptrack.contract.errors import UptrackError
from uptrack_service.adapters.memory import MemoryObjectStore
from uptrack_service.pipeline.fetch import FetchPolicy, address_allowed, fetch_into

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
