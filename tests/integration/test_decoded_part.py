"""A video of which a single instant decodes is a `media_decode_error`, not an analysis with a count of 0.

The file is the corpus's `timescale_zero` (a media header with timescale 0: the container announces 213 frames,
FFmpeg decodes the first only), and `check_decoded` is the rule `analyze_path` and the aggregator apply.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import AnalysisRequest
from uptrack.pipeline import analyze_path, check_decoded
from uptrack.pose.keypoints import COCO_KEYPOINTS
from uptrack.pose.series import PoseSeries

from tests.support.corpus import Media

FPS = 30.0


def _series(frames: int) -> PoseSeries:
    """`frames` decoded frames in a row from the first, at 30 fps."""
    points = len(COCO_KEYPOINTS)
    return PoseSeries(
        model="movenet_lightning",
        names=COCO_KEYPOINTS,
        frame_index=np.arange(frames, dtype=np.int64),
        timestamp_ms=(np.arange(frames) * 1000 / FPS).astype(np.float32),
        keypoints=np.full((frames, points, 3), 0.5, dtype=np.float32),
        presence=np.ones(frames, dtype=np.float32),
        width=640,
        height=360,
        fps=FPS,
    )


@pytest.mark.parametrize(("decoded", "announced"), [(0, 213), (0, None), (1, 213)])
def test_nothing_or_one_frame_of_a_cut_file_is_a_decode_error(decoded: int, announced: int | None) -> None:
    with pytest.raises(UptrackError) as raised:
        check_decoded(_series(decoded), announced)
    assert raised.value.code is ErrorCode.MEDIA_DECODE_ERROR


@pytest.mark.parametrize(("decoded", "announced"), [(1, 1), (1, 2), (1, None), (2, 213), (12, 213), (213, 213)])
def test_a_whole_short_video_or_a_moment_of_a_cut_one_is_analysed(decoded: int, announced: int | None) -> None:
    check_decoded(_series(decoded), announced)  # a part that lasts is analysed (with media_truncated when cut)


@pytest.fixture(scope="module")
def one_frame_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Media(tmp_path_factory.mktemp("decoded-part")).timescale_zero()


def test_analyze_path_ends_with_the_error_and_no_count(one_frame_clip: Path) -> None:
    analysis = analyze_path(one_frame_clip, AnalysisRequest(exercise="squat"))
    messages = [message.model_dump() for message in analysis]
    assert messages[-1]["type"] == "error" and messages[-1]["code"] == "media_decode_error"
    assert not [m for m in messages if m["type"] in ("counter", "exercise_summary")]


def test_uptrack_analyze_exits_2_with_the_error(one_frame_clip: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "uptrack_service.cli.main", "analyze", str(one_frame_clip), "--exercise", "squat"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    final = json.loads(done.stdout.splitlines()[-1])
    assert final["type"] == "error" and final["code"] == "media_decode_error"
    assert done.stderr == "", "no traceback, no decoder notes"
