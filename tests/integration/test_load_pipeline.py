"""Load: 100 uploads at once through the pipeline on moto, each with its own WebSocket subscriber.

`make load` runs it with 100 uploads (about 1.5 min on 2 cores); `make test` runs the same test with 12
(`UPTRACK_LOAD_UPLOADS` sets the number).

Every upload goes the whole way (POST /uploads, subscribe, presigned PUT, S3 -> EventBridge -> validation, Step
Functions, inference, aggregation, delivery). All must complete, every subscriber must hold every stored message
in seq order, the 100 analyses of the same clip must give the same messages, and nothing may crash. The wall time,
the per-upload latency and the peak resident memory of this process (moto, the functions and the clients all live
in it) are printed.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from uptrack.contract.plans import Plan
from uptrack_service.local.stack import LocalStack

from tests.support.corpus import Media
from tests.support.paths import REPO
from tests.support.stack_client import (
    Outcome,
    StackProbe,
    assert_no_orphans,
    assert_one_clean_stream,
    call,
    run_upload,
)

pytestmark = pytest.mark.slow

UPLOADS = int(os.environ.get("UPTRACK_LOAD_UPLOADS", "12"))
QUERY = "exercise=squat&angles=true"


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM (the peak resident set) of this process."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/self/status")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


def _bare(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in m.items() if k not in ("seq", "uploadId")} for m in messages if m["type"] != "progress"]


def test_a_hundred_uploads_at_once_all_complete_with_every_message(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clip = Media(tmp_path_factory.mktemp("load")).small_clip().read_bytes()  # 2 s, 320x180, one chunk
    token = stack.create_token(Plan.BUSINESS)  # uploads in flight per token are a plan limit; business allows 100
    probe = StackProbe(stack)
    probe.mark_errors()
    reset = _reset_peak_rss()
    before = _peak_rss_mib()
    began = time.monotonic()
    with ThreadPoolExecutor(UPLOADS) as clients:
        outcomes: list[Outcome] = list(
            clients.map(lambda _: run_upload(stack, token, QUERY, "video/mp4", clip, timeout_s=600), range(UPLOADS))
        )
    wall = time.monotonic() - began
    peak = _peak_rss_mib()

    assert [o.code for o in outcomes] == ["ok"] * UPLOADS, {o.code for o in outcomes}
    assert len({o.upload_id for o in outcomes}) == UPLOADS
    reference = _bare(outcomes[0].messages)
    for outcome in outcomes:
        assert outcome.upload_id is not None
        assert_one_clean_stream(outcome.messages, outcome.upload_id)
        stored = call("GET", f"{stack.http_url}/uploads/{outcome.upload_id}", token=token)[1]
        assert stored["status"] == "completed" and stored["messages"] == outcome.messages  # every message delivered
        assert _bare(outcome.messages) == reference  # the same clip gives the same analysis under load
    for outcome in outcomes:
        assert_no_orphans(probe, outcome)
    executions = [e for e in stack.executions() if e["name"] in {o.upload_id for o in outcomes}]
    assert len(executions) == UPLOADS and {e["status"] for e in executions} == {"SUCCEEDED"}

    latencies = sorted(o.wall_s for o in outcomes)
    messages = sum(len(o.messages) for o in outcomes)
    print(
        f"\nload: {UPLOADS} uploads at once ({len(clip)} bytes each, {len(reference)} result messages), "
        f"all completed in {wall:.1f} s ({UPLOADS / wall:.2f} uploads/s); {messages} messages delivered, "
        f"0 missing, 0 out of order; per upload p50 {statistics.median(latencies):.1f} s, "
        f"p95 {latencies[max(0, int(0.95 * UPLOADS) - 1)]:.1f} s, max {latencies[-1]:.1f} s; peak RSS of the process "
        f"{peak:.0f} MiB ({'since the run started' if reset else 'since the process started'}; "
        f"{before:.0f} MiB before)"
    )
