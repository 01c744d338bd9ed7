"""Progress per decoded second of video, from the in-process path and from worker processes alike, without
changing a single other message; and a caller that stops listening stops the in-process tracking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from uptrack.chunks import ChunkSpec, frames_per_second, infer_chunk
from uptrack.contract.messages import CounterMessage, ProgressMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.media import Frame, iter_frames, probe_video
from uptrack.pipeline import LocalRun, analyze_path, model_for, opening_messages, request_stride, video_messages
from uptrack.pose.engine import EngineSettings, create_estimator

from tests.support.paths import SAMPLE_VIDEO

REQUEST = AnalysisRequest(exercise="squat")


@pytest.fixture(scope="module")
def unchunked() -> list[dict[str, object]]:
    """The messages of the core's own path on the whole video as one chunk: no pool, no thread, no progress."""
    info = probe_video(SAMPLE_VIDEO)
    estimator = create_estimator(EngineSettings(model=model_for(REQUEST)))
    series = infer_chunk(SAMPLE_VIDEO, ChunkSpec(0, 0, info.frame_count), estimator, info, request_stride(REQUEST, 30))
    messages = opening_messages(REQUEST) + video_messages(series, REQUEST, expected_frames=info.frame_count)
    return [m.model_dump() for m in messages]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_sample_reports_progress_each_second_and_nothing_else_changes(
    workers: int, unchunked: list[dict[str, object]]
) -> None:
    info = probe_video(SAMPLE_VIDEO)
    messages = list(analyze_path(SAMPLE_VIDEO, REQUEST, LocalRun(workers=workers)))
    progress = [m for m in messages if isinstance(m, ProgressMessage)]
    assert len(progress) >= 7  # a 7.1-s clip: one a second and the end, where chunks gave 2 or 3
    assert [p.percent for p in progress] == sorted({p.percent for p in progress})
    assert (progress[-1].percent, progress[-1].frames_done, progress[-1].frames_total) == (100.0, 213, 213)
    seconds = [p.frames_done // frames_per_second(info) for p in progress[:-1]]
    assert seconds == sorted(set(seconds))  # at most one a decoded second
    others = [m.model_dump() for m in messages if not isinstance(m, ProgressMessage)]
    assert others == unchunked
    final = [m for m in messages if isinstance(m, CounterMessage) and m.final]
    assert final[0].current_count == 2


def test_a_caller_that_stops_listening_stops_the_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[int] = []

    def counted(
        path: Path, start: int = 0, stop: int | None = None, stride: int = 1, detect_cuts: bool = False
    ) -> Iterator[Frame]:
        for frame in iter_frames(path, start, stop, stride, detect_cuts=detect_cuts):
            decoded.append(frame.index)
            yield frame

    monkeypatch.setattr("uptrack.chunks.iter_frames", counted)
    analysis = analyze_path(SAMPLE_VIDEO, REQUEST, LocalRun(workers=1))
    first = next(m for m in analysis if isinstance(m, ProgressMessage))
    analysis.close()
    assert first.frames_done < 60
    assert 0 < max(decoded) < 120 < probe_video(SAMPLE_VIDEO).frame_count


def test_one_chunk_for_the_whole_clip_still_reports_each_second() -> None:
    """Per-chunk progress would say 100 % once, at the end; per decoded second it moves while the chunk runs."""
    messages = analyze_path(SAMPLE_VIDEO, REQUEST, LocalRun(chunk_frames=240, workers=1))
    progress = [m.percent for m in messages if isinstance(m, ProgressMessage)]
    assert len(progress) >= 7 and progress[-1] == 100.0
