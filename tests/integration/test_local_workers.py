"""`analyze_path` with worker processes: the same messages as one process, progress as the workers go, and a
killed worker ends the analysis with a typed error instead of a hang or a traceback."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator

from uptrack.chunks import plan_chunks
from uptrack.contract.messages import BaseMessage, ErrorMessage, ProgressMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.media import probe_video
from uptrack.pipeline import LocalRun, analyze_path

from tests.support.paths import SAMPLE_VIDEO

CHUNK_FRAMES = 30


def _analyse(workers: int) -> list[dict[str, object]]:
    request = AnalysisRequest(exercise="squat", keypoints=True)
    messages = analyze_path(SAMPLE_VIDEO, request, LocalRun(chunk_frames=CHUNK_FRAMES, workers=workers))
    return [m.model_dump() for m in messages]


def test_two_workers_give_the_messages_of_one_process_with_progress() -> None:
    alone, pooled = _analyse(1), _analyse(2)
    progress = [m for m in pooled if m["type"] == "progress"]
    assert len(progress) > 2
    assert [m["percent"] for m in progress] == sorted(m["percent"] for m in progress)
    assert progress[-1]["percent"] == 100.0
    assert [m for m in alone if m["type"] != "progress"] == [m for m in pooled if m["type"] != "progress"]


def test_a_killed_worker_becomes_an_analysis_failed_error() -> None:
    request = AnalysisRequest(exercise="squat")
    analysis = analyze_path(SAMPLE_VIDEO, request, LocalRun(chunk_frames=15, workers=2))
    messages = list(_killing_workers_at_first_progress(analysis))
    assert isinstance(messages[-1], ErrorMessage)
    assert messages[-1].code == "analysis_failed"
    chunks = plan_chunks(probe_video(SAMPLE_VIDEO).frame_count, 15)
    assert sum(isinstance(m, ProgressMessage) for m in messages) < len(chunks)


def _killing_workers_at_first_progress(messages: Iterator[BaseMessage]) -> Iterator[BaseMessage]:
    """Pass the messages on; at the first progress (15 chunks, most still to do) kill every worker process."""
    killed = False
    for message in messages:
        if isinstance(message, ProgressMessage) and not killed:
            for worker in multiprocessing.active_children():
                os.kill(worker.pid or 0, signal.SIGKILL)
            killed = True
        yield message
