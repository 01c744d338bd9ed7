"""`uptrack serve` on a LAN (`--host 0.0.0.0`), attacked as another host would, from this machine's loopback only.

The server binds every interface and publishes the name 127.0.0.2 (`--public-host`), which stands for its LAN
address: a request that names 127.0.0.2 in `Host` is what a phone on the LAN sends, one that names 127.0.0.1 is
what a browser on the machine itself sends, and any other name is what a DNS-rebinding page sends. Every
connection goes to a 127.x address; nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from uptrack_service.cli.client import Endpoint, LocalStackInfo, upload_file
from websockets.sync.client import connect

from tests.support.paths import MEDIA, SAMPLE_VIDEO
from tests.support.stack_client import call

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]
LAN_NAME = "127.0.0.2"


@dataclass
class Lan:
    process: subprocess.Popen[str]
    home: Path
    info: LocalStackInfo
    port: int

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "UPTRACK_HOME": str(self.home)}

    def token(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([*UPTRACK, "token", *args], env=self.env, capture_output=True, text=True, check=True)
        return dict(json.loads(done.stdout.splitlines()[-1]))


def _start(home: Path) -> subprocess.Popen[str]:
    command = [*UPTRACK, "serve", "--host", "0.0.0.0", "--public-host", LAN_NAME, "--port", "0"]
    env = {**os.environ, "UPTRACK_HOME": str(home)}
    with (home / "serve.err").open("w") as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors, text=True)
    began = time.monotonic()
    while not (home / LocalStackInfo.FILE).exists():
        assert process.poll() is None, (home / "serve.err").read_text()[-2000:]
        assert time.monotonic() - began < 120, "uptrack serve did not start in 120 s"
        time.sleep(0.05)
    return process


@pytest.fixture(scope="module")
def lan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lan]:
    home = tmp_path_factory.mktemp("uptrack-lan")
    process = _start(home)
    document = json.loads((home / LocalStackInfo.FILE).read_text())
    info = LocalStackInfo(document["baseUrl"], document["websocketUrl"], document["token"], document["pid"])
    yield Lan(process, home, info, int(info.base_url.rsplit(":", 1)[1]))
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _get(port: int, path: str, host: str, address: str = "127.0.0.1") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(address, port, timeout=30)
    connection.request("GET", path, headers={"Host": f"{host}:{port}"})
    response = connection.getresponse()
    return response.status, response.read()


def _listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                address, port = fields[1].split(":")
                found.append((address, int(port, 16)))
    return found


def test_the_page_hands_the_token_only_to_this_machine_by_a_loopback_name(lan: Lan) -> None:
    status, body = _get(lan.port, "/config.json", "127.0.0.1")
    assert status == 200 and json.loads(body)["token"] == lan.info.token
    status, body = _get(lan.port, "/config.json", LAN_NAME, address=LAN_NAME)
    assert status == 200 and "token" not in json.loads(body) and json.loads(body)["exercises"]
    status, body = _get(lan.port, "/config.json", LAN_NAME)  # this machine, but by its LAN name: as any LAN host
    assert status == 200 and "token" not in json.loads(body)


@pytest.mark.parametrize("name", ["attacker.example", "127.0.0.1.nip.io", "localhost.attacker.example"])
def test_a_rebinding_host_name_is_refused_everywhere(lan: Lan, name: str) -> None:
    for path in ("/config.json", "/", "/uploads/00000000-0000-4000-8000-000000000000"):
        assert _get(lan.port, path, name)[0] == 403
    websocket_port = int(lan.info.websocket_url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", websocket_port), timeout=10) as client:
        client.sendall(
            f"GET /local?uploadId=x&token=y HTTP/1.1\r\nHost: {name}:{websocket_port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        assert client.recv(64).startswith(b"HTTP/1.1 403")


def test_moto_answers_no_one_without_the_stacks_credentials(lan: Lan) -> None:
    """The tokens table was readable (and writable) by any host with any credentials, and /moto-api/ could
    start moto's recorder. Every port the server listens on is tried."""
    ports = _listening(lan.process.pid)
    assert len(ports) >= 4
    for address, port in ports:
        dynamodb = boto3.client(
            "dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="anything",
            config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10),
        )  # fmt: skip
        with pytest.raises(Exception) as refused:
            dynamodb.list_tables()
        assert "TableNames" not in str(refused.value)
        status, body = _get(port, "/moto-api/recorder/start-recording", "127.0.0.1")
        assert status != 200 or b"moto" not in body.lower(), (address, port)
        preflight = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        target = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}
        preflight.request("OPTIONS", "/", body=b"{}", headers={"Host": f"127.0.0.1:{port}"} | target)
        try:
            answer = preflight.getresponse().read()
        except http.client.RemoteDisconnected:  # the WebSocket port hangs up on a non-WebSocket request
            answer = b""
        assert b"TableNames" not in answer, (address, port)


def test_a_phone_on_the_lan_uploads_with_a_token_of_its_own(lan: Lan) -> None:
    token = lan.token("create", "--owner", "phone@lan", "--plan", "developer")["token"]
    endpoint = Endpoint(f"http://{LAN_NAME}:{lan.port}", token)
    messages = list(upload_file(endpoint, SAMPLE_VIDEO, {"exercise": "squat"}, timeout_s=300))
    assert messages[-1]["message"] == "Analysis completed"
    assert next(m for m in messages if m["type"] == "counter" and m.get("final"))["current_count"] == 2


def test_a_token_acts_from_creation_and_stops_at_revocation_and_its_usage_is_kept(lan: Lan) -> None:
    created = lan.token("create", "--owner", "revoked@lan", "--plan", "free")
    url = f"{lan.info.base_url}/uploads?token={created['token']}&source=video"
    declaration = {"contentType": "video/mp4", "contentLength": 1000}
    assert call("POST", url, declaration)[0] == 201
    listed = [json.loads(line) for line in subprocess.run(
        [*UPTRACK, "token", "list", "--owner", "revoked@lan"], env=lan.env, capture_output=True, text=True, check=True
    ).stdout.splitlines()]  # fmt: skip
    assert listed[0]["used_this_month"] == 1
    lan.token("revoke", created["token"])
    status, refused = call("POST", url, declaration)
    assert status == 401 and refused["code"] == "invalid_token"


def test_an_unauthenticated_huge_body_is_refused_before_it_is_read(lan: Lan) -> None:
    with socket.create_connection(("127.0.0.1", lan.port), timeout=10) as client:
        client.sendall(
            f"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1:{lan.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode()
        )
        client.sendall(b"x" * 65536)
        answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.0 413") or answer.startswith(b"HTTP/1.1 413")


def test_media_urls_may_not_reach_this_machine(lan: Lan, tmp_path: Path) -> None:
    """A videoSrc on a loopback port (moto's API, a file served only locally, a port scan) is refused."""
    (tmp_path / "clip.mp4").write_bytes(SAMPLE_VIDEO.read_bytes())

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
        status, created = call("POST", f"{lan.info.base_url}/uploads?token={lan.info.token}&videoSrc={source}", {})
        # refused at the door, before anything is stored or charged (a name that resolves here fails at the fetch)
        assert status == 400 and created["code"] == "invalid_params" and created["details"] == {"param": "videoSrc"}
    finally:
        server.shutdown()


def test_half_sent_requests_leave_no_traceback_and_idle_connections_are_closed(lan: Lan) -> None:
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", lan.port), timeout=10) as client:
            client.sendall(b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc")
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(1)
    assert "Traceback" not in (lan.home / "serve.err").read_text()
    idle = socket.create_connection(("127.0.0.1", lan.port), timeout=60)
    began = time.monotonic()
    assert idle.recv(1) == b""  # the server closed it
    assert time.monotonic() - began < 45
    idle.close()


def test_a_subscribe_repeated_on_one_connection_replays_the_stream_once(lan: Lan) -> None:
    """Each 40-byte subscribe used to return the whole stream again."""
    endpoint = Endpoint(lan.info.base_url, lan.info.token)
    messages = list(upload_file(endpoint, SAMPLE_VIDEO, {"exercise": "squat"}, timeout_s=300))
    url = f"{lan.info.websocket_url}?uploadId={messages[-1]['uploadId']}&token={lan.info.token}"
    frames = []
    with connect(url, open_timeout=30) as socket_:
        for _ in range(3):
            socket_.send(json.dumps({"action": "subscribe"}))
        with contextlib.suppress(TimeoutError):
            while True:
                frames.append(json.loads(socket_.recv(timeout=5)))
    assert sorted(frame["seq"] for frame in frames) == [m["seq"] for m in messages]


def test_sigterm_stops_the_server_within_seconds_even_mid_analysis(lan: Lan) -> None:
    """Runs last: it stops the module's server. The old server took minutes, or aborted, with work in flight."""
    endpoint = Endpoint(lan.info.base_url, lan.info.token)
    shared = MEDIA / "squat"
    clip = next(iter(sorted(shared.glob("*.mp4"))), SAMPLE_VIDEO)
    stream = upload_file(endpoint, clip, {"exercise": "squat"}, timeout_s=120)
    for message in stream:
        if message["type"] == "environment":
            break
    began = time.monotonic()
    lan.process.send_signal(signal.SIGTERM)
    assert lan.process.wait(15) == 0
    assert time.monotonic() - began < 10
    errors = (lan.home / "serve.err").read_text()
    assert "Traceback" not in errors and "terminate called" not in errors
