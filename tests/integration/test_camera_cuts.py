"""Camera cuts found in real edited clips from the decoded frames, the same whatever frame decoding starts at, and
a hold filmed across a cut timed as one hold (the shared media's notes give the cut times)."""

from __future__ import annotations

from pathlib import Path

import pytest
from uptrack.chunks import infer_chunk_run, plan_chunks
from uptrack.media import iter_frames, probe_video
from uptrack.pipeline import model_for, request_stride, video_messages
from uptrack.pose.engine import EngineSettings, create_estimator
from uptrack.pose.series import PoseSeries
from uptrack_service.tools.accuracy import outcome, request_for

from tests.support.paths import MEDIA

PLANK = MEDIA / "plank" / "plank_forearm_camera-cut_hold_no_reps_greendjpt.mp4"
"""25 fps, held the whole 11.8 s; one hard cut at 5.2 s (frame 130) from a wide side view to a close 3/4 front."""
HIGH_KNEES = MEDIA / "high_knees" / "highknees_3q-side_edited-3-shots-fade_30reps_tomnotchymk.mp4"
"""23.976 fps; hard cuts at 7.97 s and 11.05 s (frames 191 and 265), a cross-dissolve to a logo from 16.85 s."""


def cut_frames(path: Path, start: int = 0, stop: int | None = None, stride: int = 1) -> list[int]:
    return [f.index for f in iter_frames(path, start, stop, stride=stride, detect_cuts=True) if f.cut]


def needs(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"shared media not found: {path}")


def test_hard_cuts_are_found_and_a_cross_dissolve_is_not() -> None:
    needs(HIGH_KNEES)
    assert cut_frames(HIGH_KNEES) == [191, 265]


def test_a_cut_flag_does_not_depend_on_where_decoding_starts() -> None:
    """A chunk that starts at the cut, or on the frame before it, sees the cut on the same analysed frame; at
    stride 2 the cut between frames 129 and 130 is reported on frame 130 (it happened since frame 128)."""
    needs(PLANK)
    assert cut_frames(PLANK, stride=2) == [130]
    for start in (120, 128, 130):
        assert cut_frames(PLANK, start, 140, stride=2) == [130]
    assert cut_frames(PLANK, 132, 140, stride=2) == []


def test_a_hold_filmed_across_a_cut_is_timed_as_one_hold() -> None:
    needs(PLANK)
    request = request_for("plank")
    info = probe_video(PLANK)
    stride = request_stride(request, info.fps)
    estimator = create_estimator(EngineSettings(model=model_for(request)))
    series = PoseSeries.concat(list(infer_chunk_run(PLANK, plan_chunks(info.frame_count), estimator, info, stride)))
    assert series.shots() == [slice(0, 65), slice(65, len(series))]
    assert outcome(video_messages(series, request)).count >= 10  # seconds; held for all 11.8 s
