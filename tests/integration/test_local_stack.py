"""`uptrack serve` + `uptrack upload`: the real protocol on this machine gives what `uptrack analyze` gives.

The server runs as a user starts it (a subprocess on a free port, its own UPTRACK_HOME); uploads go through the
HTTP API, moto's S3, the S3 → EventBridge → validation dispatch, Step Functions and the WebSocket gateway.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from uptrack.contract.plans import DEFAULT_MONTHLY_QUOTAS, Plan
from uptrack.contract.tokens import JsonFileTokenStore, new_record
from uptrack_service.cli.client import Endpoint, LocalStackInfo, Subscription, create_upload, get_upload, put_media

from tests.support.paths import SAMPLE_VIDEO

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]
CONCURRENT_UPLOADS = 20
RESULT_TYPES = ("counter", "form_score", "exercise_summary")
SHARED_CLIP = "squat/squat_side_overlay_3reps_msoldo.mp4"
"""A short shared clip (10 s, 368×640, 3 squats), read from ../shared/media."""


@dataclass
class Server:
    process: subprocess.Popen[str]
    home: Path
    info: LocalStackInfo
    port: int
    started_s: float
    business_token: str
    """A business-plan token minted before start: its plan allows the concurrent uploads the load test runs."""

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "UPTRACK_HOME": str(self.home)}

    def peak_memory_mib(self) -> float | None:
        """The server's peak resident memory so far (Linux)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
        return int(line.split()[1]) / 1024 if line else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("uptrack-home")
    with serving(home) as started:
        yield started


@contextmanager
def serving(home: Path) -> Iterator[Server]:
    """`uptrack serve` on a free port with `home` as UPTRACK_HOME (tokens made there beforehand are served, and a
    business token is added: its plan allows the concurrent uploads the load test runs)."""
    business, record = new_record(
        "load@uptrack", Plan.BUSINESS, DEFAULT_MONTHLY_QUOTAS[Plan.BUSINESS], datetime.now(UTC)
    )
    JsonFileTokenStore(home / "tokens.json").put(record)  # `serve` loads every token of its home
    port = free_port()
    began = time.monotonic()
    process = subprocess.Popen(
        [*UPTRACK, "serve", "--port", str(port)],
        env={**os.environ, "UPTRACK_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    info_file = home / LocalStackInfo.FILE
    while not info_file.exists():
        assert process.poll() is None, "uptrack serve exited during start-up"
        assert time.monotonic() - began < 120, "uptrack serve did not start in 120 s"
        time.sleep(0.05)
    started = time.monotonic() - began
    info = LocalStackInfo(**_info_fields(json.loads(info_file.read_text())))
    yield Server(process, home, info, port, started, business)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert not info_file.exists(), "serve leaves no stale local-stack.json behind"


def _info_fields(document: dict[str, Any]) -> dict[str, Any]:
    return {
        "base_url": document["baseUrl"],
        "websocket_url": document["websocketUrl"],
        "token": document["token"],
        "pid": document["pid"],
    }


def analyze(path: Path, exercise: str) -> list[dict[str, Any]]:
    """What `uptrack analyze` prints: the reference for everything the stack sends."""
    done = subprocess.run(
        [*UPTRACK, "analyze", str(path), "--exercise", exercise], capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.fixture(scope="module")
def analyzed() -> list[dict[str, Any]]:
    return analyze(SAMPLE_VIDEO, "squat")


def results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counters, form scores and the summary without the delivery envelope."""
    return [{k: v for k, v in m.items() if k not in ("seq", "uploadId")} for m in messages if m["type"] in RESULT_TYPES]


def final_count(messages: list[dict[str, Any]]) -> int:
    return int(next(m["current_count"] for m in messages if m["type"] == "counter" and m.get("final")))


def test_serve_prints_where_it_listens_and_serves_the_page(server: Server) -> None:
    assert server.info.base_url == f"http://127.0.0.1:{server.port}"
    assert server.info.websocket_url.startswith("ws://127.0.0.1:")
    assert server.info.token == (server.home / "dev-token").read_text().strip()
    assert server.process.stdout is not None
    banner = [server.process.stdout.readline() for _ in range(4)]
    assert f"{server.info.base_url}/" in banner[1] and server.info.token in banner[3]
    from urllib.request import urlopen

    with urlopen(f"{server.info.base_url}/", timeout=10) as page:
        assert b'<script type="module" src="/app.js">' in page.read()
    for path in ("/pose_tracker/upload_tracking", "/upload_tracking"):  # PoseTracker's hosted page, for apps
        with urlopen(f"{server.info.base_url}{path}?token=T&exercise=squat", timeout=10) as page:
            assert b'<script type="module" src="/upload_tracking.js">' in page.read()
    with urlopen(f"{server.info.base_url}/config.json", timeout=10) as config:
        assert json.load(config)["token"] == server.info.token


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["sample", SHARED_CLIP])
def test_upload_command_gives_the_same_result_as_analyze(
    server: Server, clip: str, request: pytest.FixtureRequest
) -> None:
    path = SAMPLE_VIDEO if clip == "sample" else request.getfixturevalue("media_dir") / clip
    done = subprocess.run(
        [*UPTRACK, "upload", str(path), "--exercise", "squat"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert messages[-1]["type"] == "initialization" and messages[-1]["message"] == "Analysis completed"
    analyzed = analyze(path, "squat")
    assert final_count(messages) == final_count(analyzed) > 0
    assert results(messages) == results(analyzed)


def test_upload_without_a_stack_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*UPTRACK, "upload", str(SAMPLE_VIDEO), "--exercise", "squat"],
        env={**os.environ, "UPTRACK_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "uptrack: no local stack is running: start `uptrack serve`, or pass --endpoint URL"


@dataclass
class Timed:
    """One upload of the concurrency test: its messages and when things happened (monotonic seconds)."""

    upload_id: str = ""
    uploaded: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)


def timed_upload(endpoint: Endpoint, path: Path) -> Timed:
    run = Timed()
    created = create_upload(endpoint, path, {"exercise": "squat"})
    run.upload_id = created["uploadId"]
    with Subscription(endpoint, created, timeout_s=600) as subscription:
        put_media(created, path)
        run.uploaded = time.monotonic()
        for wire in subscription:
            run.arrivals.append(time.monotonic())
            run.messages.append(wire)
    return run


def stored_messages(endpoint: Endpoint, upload_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        view = get_upload(endpoint, upload_id, after)
        messages += view["messages"]
        if view.get("nextAfterSeq") is None:
            return messages
        after = int(view["nextAfterSeq"])


@pytest.mark.slow
def test_twenty_concurrent_uploads_each_get_every_message_in_order(
    server: Server, analyzed: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = Endpoint(server.info.base_url, server.business_token)  # the developer plan allows 10 in flight
    alone = timed_upload(endpoint, SAMPLE_VIDEO)
    began = time.monotonic()
    with ThreadPoolExecutor(CONCURRENT_UPLOADS) as pool:
        runs = list(pool.map(lambda _: timed_upload(endpoint, SAMPLE_VIDEO), range(CONCURRENT_UPLOADS)))
    wall = time.monotonic() - began
    assert len({run.upload_id for run in runs}) == CONCURRENT_UPLOADS
    for run in runs:
        seqs = [m["seq"] for m in run.messages]
        assert seqs == list(range(1, len(seqs) + 1)), f"{run.upload_id}: {seqs}"
        assert {m["uploadId"] for m in run.messages} == {run.upload_id}
        assert run.messages == stored_messages(endpoint, run.upload_id)  # complete: nothing stored was missed
        assert run.messages[-1]["message"] == "Analysis completed"
        assert results(run.messages) == results(analyzed)
    first = [run.arrivals[0] - run.uploaded for run in runs]
    final = [run.arrivals[-1] - run.uploaded for run in runs]
    memory = server.peak_memory_mib()
    solo_first, solo_final = alone.arrivals[0] - alone.uploaded, alone.arrivals[-1] - alone.uploaded
    with capsys.disabled():
        print(
            f"\nlocal stack: started in {server.started_s:.1f} s; one upload alone: first message {solo_first:.2f} s, "
            f"final {solo_final:.2f} s after its PUT\n{CONCURRENT_UPLOADS} concurrent uploads of "
            f"{SAMPLE_VIDEO.name} in {wall:.1f} s, {len(runs[0].messages)} messages each, all complete and in order"
            f"\n  upload -> first message: median {statistics.median(first):.2f} s, max {max(first):.2f} s"
            f"\n  upload -> final message: median {statistics.median(final):.2f} s, max {max(final):.2f} s"
            + (f"\n  server peak memory: {memory:.0f} MiB" if memory is not None else "")
        )
