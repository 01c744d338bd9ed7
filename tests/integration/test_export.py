"""Video export: an H.264 MP4 with the source's frames, count and duration, and the overlay burned in."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from uptrack.contract.messages import CounterMessage, FormScore, InitializationMessage
from uptrack.export import Overlay, RepMark, export_video, join_parts, render_part, rep_marks
from uptrack.media import VideoInfo, probe_video
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO

SQUAT = "squat/squat_side_man_3reps_yuyoujiang.mp4"
PORTRAIT = "squat/squat_side_overlay_3reps_msoldo.mp4"
UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]


def described(path: Path) -> tuple[str, int, float, tuple[int, int]]:
    """(codec, frame count, fps, (width, height)) as OpenCV reads the file."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    codec = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    result = codec.lower(), int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), float(capture.get(cv2.CAP_PROP_FPS)), size
    capture.release()
    return result


def frame_at(path: Path, index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = capture.read()
    capture.release()
    assert ok
    return image


def assert_same_timing(exported: Path, source: VideoInfo) -> None:
    codec, frames, fps, size = described(exported)
    assert codec in ("h264", "avc1")
    assert frames == source.frame_count
    assert abs(frames / fps - source.duration_s) < 0.5 / source.fps
    assert size == (source.width + source.width % 2, source.height + source.height % 2)


@pytest.mark.slow
def test_cli_export_is_h264_with_the_source_timing_and_the_overlay(media_dir: Path, tmp_path: Path) -> None:
    source, out = media_dir / SQUAT, tmp_path / "squat.mp4"
    started = time.perf_counter()
    done = subprocess.run([*UPTRACK, "analyze", str(source), "--exercise", "squat", "--export", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    types = [m["type"] for m in messages]
    assert types[-2:] == ["export_ready", "initialization"]
    assert types.index("exercise_summary") < types.index("export_ready")
    assert messages[-2]["url"] == out.resolve().as_uri()
    info = probe_video(source)
    assert_same_timing(out, info)
    print(f"analyse + export of {info.frame_count} frames: {time.perf_counter() - started:.1f} s")

    reps = [m for m in messages if m["type"] == "counter" and not m.get("final")]
    after_reps = min(info.frame_count - 1, round(((reps[-1]["timestampMs"] if reps else 0) + 400) * info.fps / 1000))
    drawn, original = frame_at(out, after_reps).astype(int), frame_at(source, after_reps).astype(int)
    panel = (slice(10, 60), slice(10, 120))
    assert drawn[panel].mean() < original[panel].mean() - 20  # the darkened count/grade box
    changed = np.abs(drawn - original).sum(axis=2) > 120
    assert changed[80:].mean() > 0.002  # the skeleton, well below the panel


def test_parts_join_losslessly_into_the_whole(media_dir: Path, tmp_path: Path) -> None:
    source = media_dir / PORTRAIT
    info = probe_video(source)
    series = smooth_series(load_series((REPO / "tests" / "data" / "poses" / f"{source.stem}.npz").read_bytes()))
    overlay = Overlay.of(series, [CounterMessage(current_count=1, form_score=FormScore.of(85, 85), timestamp_ms=4900)])
    bounds = [0, 100, 190, info.frame_count]
    parts = [tmp_path / f"part{i}.mp4" for i in range(3)]
    for part, start, stop in zip(parts, bounds, bounds[1:], strict=False):
        assert render_part(source, start, stop, overlay, part, info.fps) == stop - start
    joined = tmp_path / "joined.mp4"
    join_parts(parts, joined, audio_from=source)
    assert_same_timing(joined, info)
    decoded = cv2.VideoCapture(str(joined))
    count = 0
    while decoded.grab():
        count += 1
    assert count == info.frame_count


def test_odd_sizes_are_padded_and_short_decodes_keep_the_frame_count(tmp_path: Path) -> None:
    source = tmp_path / "odd.avi"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter.fourcc(*"MJPG"), 12.0, (101, 75))
    for i in range(20):
        writer.write(np.full((75, 101, 3), 10 * i, dtype=np.uint8))
    writer.release()
    empty = Overlay(np.zeros(0, dtype=np.int64), np.zeros((0, 17, 3), dtype=np.float32), ())
    out = tmp_path / "odd.mp4"
    export_video(source, empty, out)
    assert_same_timing(out, probe_video(source))
    part = tmp_path / "long.mp4"
    assert render_part(source, 10, 25, empty, part, 12.0) == 15
    assert described(part)[1] == 15


def test_marks_come_from_counted_reps_only() -> None:
    messages = [
        InitializationMessage(message="loading video"),
        CounterMessage(current_count=1, form_score=FormScore.of(92, 92), timestamp_ms=1000),
        CounterMessage(current_count=2, timestamp_ms=2500),
        CounterMessage(current_count=2, final=True, form_score=FormScore.of(70, 81), timestamp_ms=3000),
    ]
    assert rep_marks(messages) == (RepMark(1000, 1, "A"), RepMark(2500, 2, None))


def test_skeleton_is_blended_between_strided_frames() -> None:
    coco = np.zeros((2, 17, 3), dtype=np.float32)
    coco[1, :, :2] = 1.0
    coco[:, :, 2] = [[0.9], [0.5]]
    overlay = Overlay(np.array([0, 2], dtype=np.int64), coco, ())
    middle = overlay.pose_at(1)
    assert middle is not None
    np.testing.assert_allclose(middle[:, :2], 0.5)
    np.testing.assert_allclose(middle[:, 2], 0.5)
    assert overlay.pose_at(3) is None
    far = Overlay(np.array([0, 30], dtype=np.int64), coco, ())
    assert far.pose_at(15) is None
