"""Messy phone uploads and hostile queries through `uptrack analyze` and through the cloud pipeline on moto.

Every case of `tests/support/corpus.py` is generated in a temporary folder, then:

* `uptrack analyze` (a subprocess, as a user runs it): exit 2 with exactly one `error` of the expected code, or
  exit 0 ending with `Analysis completed`; JSON lines only on stdout; never a traceback on stderr;
* the pipeline (`LocalStack`: HTTP API, presigned PUT, S3 -> EventBridge -> validation, Step Functions, the real
  handlers, a WebSocket subscriber): the same outcome; refused requests store nothing; accepted ones end with a
  terminal upload record, a finished (or never started) execution, no subscriber left and no unexpected exception.

The table of cases, expected and seen outcomes is printed at the end of the module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from uptrack_service.local.stack import LocalStack

from tests.support.corpus import CASES, OK, PIPELINE_MAX_VIDEO_BYTES, Case, Media, photos_available, summary
from tests.support.paths import REPO
from tests.support.stack_client import (
    Outcome,
    StackProbe,
    assert_no_orphans,
    assert_one_clean_stream,
    run_upload,
)

pytestmark = pytest.mark.slow

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]
ANALYZE_PARALLEL = 2


@dataclass
class Analyzed:
    exit_code: int
    messages: list[dict[str, object]]
    stderr: str
    wall_s: float

    @property
    def outcome(self) -> str:
        last = self.messages[-1] if self.messages else {}
        if last.get("type") == "error":
            return str(last["code"])
        return OK if last.get("message") == "Analysis completed" else f"unfinished: {last}"


TABLE: dict[str, dict[str, str]] = {}


def _runnable(case: Case) -> bool:
    return photos_available() or not case.needs_photos


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def files(media: Media) -> dict[str, Path]:
    """Every case's file, made once (cases share intermediate clips)."""
    return {case.name: case.make(media) for case in CASES if _runnable(case)}


def _analyze(case: Case, path: Path) -> Analyzed:
    began = time.monotonic()
    done = subprocess.run(
        [*UPTRACK, "analyze", str(path), "--query", case.query, "--workers", "1", *case.analyze_args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return Analyzed(done.returncode, lines, done.stderr, time.monotonic() - began)


@pytest.fixture(scope="module")
def analyzed(files: dict[str, Path]) -> Iterator[dict[str, Future[Analyzed]]]:
    """`uptrack analyze` on every case, two at a time (each is its own process), in the background: the pipeline
    tests run meanwhile and the analyze tests collect the results."""
    pool = ThreadPoolExecutor(ANALYZE_PARALLEL, thread_name_prefix="analyze")
    runs = {
        case.name: pool.submit(_analyze, case, files[case.name])
        for case in CASES
        if case.analyze and case.name in files
    }
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2, environment={"MAX_VIDEO_BYTES": str(PIPELINE_MAX_VIDEO_BYTES)}) as running:
        yield running
    _print_table(request)


def _print_table(request: pytest.FixtureRequest) -> None:
    """The table of cases, expected and seen, on the terminal (outside pytest's output capture)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not TABLE:
        return
    lines = [
        "",
        "| case | input | expected: analyze / pipeline | seen: analyze | seen: pipeline |",
        "|---|---|---|---|---|",
    ]
    for case in CASES:
        row = TABLE.get(case.name)
        if row:
            expected = f"{case.analyze or 'n/a'} / {case.pipeline}"
            lines.append(
                f"| {case.name} | {case.what} | {expected} | {row.get('analyze', '-')} | {row.get('pipeline', '-')} |"
            )
    with capture.global_and_fixture_disabled():
        for line in lines:
            reporter.write_line(line)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_pipeline(case: Case, files: dict[str, Path], stack: LocalStack, analyzed: dict[str, Future[Analyzed]]) -> None:
    """(`analyzed` is requested so that the analyze runs start now, in the background.)"""
    if case.name not in files:
        pytest.skip("needs the shared photos")
    probe = StackProbe(stack)
    probe.mark_errors()
    uploads_before = probe.count("UploadsTable")
    outcome: Outcome = run_upload(
        stack, stack.create_token(), case.query, case.content_type, files[case.name].read_bytes(), case.declared_bytes
    )
    seen = outcome.code if outcome.status == 201 else f"HTTP {outcome.status} {outcome.code}"
    details = summary(outcome.messages) if outcome.status == 201 else ""
    TABLE.setdefault(case.name, {})["pipeline"] = (
        f"{seen} ({details + '; ' if details else ''}{outcome.upload_status}, execution "
        f"{outcome.execution or 'none'}, {len(outcome.messages)} msgs, {outcome.wall_s:.1f} s)"
        if outcome.status == 201
        else f"{seen} (no record)"
    )
    assert outcome.code == case.pipeline, outcome.messages[-3:]
    if case.refused_status is not None:
        # refused at the door: nothing stored, nothing started
        assert outcome.status == case.refused_status
        assert probe.count("UploadsTable") == uploads_before
        assert outcome.messages[0]["type"] == "error" and outcome.messages[0]["error"] == case.pipeline
        return
    assert outcome.status == 201 and outcome.upload_id is not None
    assert_one_clean_stream(outcome.messages, outcome.upload_id)
    assert_no_orphans(probe, outcome)
    if case.pipeline == OK:
        assert {m["code"] for m in outcome.messages if m["type"] == "warning"} == case.warnings
        if case.check is not None:
            case.check(outcome.messages)
    if case.pipeline == "media_too_large" and case.declared_bytes is not None:
        assert not probe.object_exists(f"media/{outcome.upload_id}/source")  # the oversized object is deleted


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_uptrack_analyze(case: Case, analyzed: dict[str, Future[Analyzed]]) -> None:
    if not case.analyze:
        pytest.skip("a pipeline-only case (what a client declares to the API)")
    if case.name not in analyzed:
        pytest.skip("needs the shared photos")
    run = analyzed[case.name].result(timeout=600)
    details = summary(run.messages)
    TABLE.setdefault(case.name, {})["analyze"] = (
        f"{run.outcome} ({details + '; ' if details else ''}exit {run.exit_code}, {run.wall_s:.1f} s)"
    )
    assert "Traceback" not in run.stderr, run.stderr
    errors = [m for m in run.messages if m["type"] == "error"]
    assert run.outcome == case.analyze, (run.messages[-3:], run.stderr[-2000:])
    if case.analyze == OK:
        assert run.exit_code == 0 and errors == [] and run.messages[0]["type"] == "initialization"
        assert {m["code"] for m in run.messages if m["type"] == "warning"} == case.warnings
        if case.check is not None:
            case.check(run.messages)
    else:
        assert run.exit_code == 2 and len(errors) == 1 and run.messages[-1] is errors[0]
        assert errors[0]["error"] == errors[0]["code"]
