"""The export's coaching layer: the cues a rep fired, with its grade, and the measured joints' angles, drawn on the
frames of a real clip (the bad-form curl: its first reps swing the elbows and fire a cue)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from uptrack.contract.messages import dump_message
from uptrack.contract.params import AnalysisRequest
from uptrack.export import (
    CUE_MS,
    Overlay,
    client_messages,
    draw_angle_labels,
    drawing_request,
)
from uptrack.media import Frame, iter_frames, probe_video
from uptrack.pipeline import video_messages
from uptrack.pose.series import PoseSeries
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO

CURL = "bicep_curl/curl_bad-form-3_then-good-form_bajpai.mp4"
REQUEST = AnalysisRequest(exercise="bicep_curl", export=True)
UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]


@pytest.fixture(scope="module")
def poses() -> PoseSeries:
    return load_series((REPO / "tests" / "data" / "poses" / f"{Path(CURL).stem}.npz").read_bytes())


@pytest.fixture(scope="module")
def overlay(poses: PoseSeries) -> Overlay:
    return Overlay.of(smooth_series(poses), video_messages(poses, drawing_request(REQUEST)))


def frame_at(media_dir: Path, time_ms: float) -> Frame:
    info = probe_video(media_dir / CURL)
    index = min(round(time_ms * info.fps / 1000), info.frame_count - 1)
    return next(iter_frames(media_dir / CURL, index, index + 1))


def changed(one: np.ndarray, other: np.ndarray) -> np.ndarray:
    """(H, W) mask of the pixels that differ."""
    return np.abs(one.astype(int) - other.astype(int)).sum(axis=2) > 0


def test_cues_are_drawn_for_every_export_but_sent_only_when_asked(poses: PoseSeries, overlay: Overlay) -> None:
    assert any(cue.grade in ("C", "D") for cue in overlay.cues)
    assert all(cue.text for cue in overlay.cues)
    drawn = video_messages(poses, drawing_request(REQUEST))
    asked = video_messages(poses, REQUEST)
    assert [dump_message(m) for m in client_messages(drawn, REQUEST)] == [dump_message(m) for m in asked]
    assert not [m for m in asked if m.type == "recommendations"]
    coached = REQUEST.model_copy(update={"recommendations": True})
    assert client_messages(drawn, coached) == drawn


def test_after_a_c_or_d_rep_its_cue_and_grade_cover_the_bottom_band_for_two_seconds(
    media_dir: Path, overlay: Overlay
) -> None:
    uncoached = replace(overlay, cues=())
    poor = next(cue for cue in overlay.cues if cue.grade in ("C", "D"))
    for delay in (100, CUE_MS - 100):
        frame = frame_at(media_dir, poor.time_ms + delay)
        with_cue, without = overlay.draw(frame), uncoached.draw(frame)
        height = frame.image.shape[0]
        band = changed(with_cue, without)
        assert band[: height * 2 // 3].sum() == 0  # nothing above the cue band moves
        assert band[height * 3 // 4 :].mean() > 0.3  # the darkened band with the grade chip and the text
        assert with_cue[band].mean() < without[band].mean() - 30  # darkened: light text on a dark band
    first = min(cue.time_ms for cue in overlay.cues)
    before, after = frame_at(media_dir, first - 200), frame_at(media_dir, poor.time_ms + CUE_MS + 200)
    assert not changed(overlay.draw(before), uncoached.draw(before)).any()
    if not any(0 <= after.timestamp_ms - cue.time_ms < CUE_MS for cue in overlay.cues):
        assert not changed(overlay.draw(after), uncoached.draw(after)).any()


def test_angle_labels_sit_beside_the_measured_joints(media_dir: Path, overlay: Overlay) -> None:
    assert overlay.joints == ("shoulder", "elbow")  # the curl counts on the elbow, grades the shoulder's swing
    frame = frame_at(media_dir, 1000)
    pose = overlay.pose_at(frame.index)
    assert pose is not None
    height, width = frame.image.shape[:2]
    labelled = replace(overlay, cues=()).draw(frame)
    mask = changed(labelled, replace(overlay, cues=(), joints=()).draw(frame))
    assert mask.sum() > 200
    rows, cols = np.nonzero(mask)
    joints = pose[[5, 6, 7, 8], :2] * np.array([width, height])  # shoulders and elbows
    nearest = np.min(np.hypot(cols[:, None] - joints[None, :, 0], rows[:, None] - joints[None, :, 1]), axis=1)
    assert nearest.max() < 0.25 * width  # every changed pixel is a label next to a shoulder or an elbow


def test_skeleton_false_drops_the_labels_but_keeps_the_count_and_the_cues(
    media_dir: Path, poses: PoseSeries, overlay: Overlay
) -> None:
    clean = Overlay.of(smooth_series(poses), video_messages(poses, drawing_request(REQUEST)), skeleton=False)
    assert clean.joints == () and len(clean.frame_index) == 0
    assert clean.cues == overlay.cues and clean.marks == overlay.marks
    poor = next(cue for cue in clean.cues if cue.grade in ("C", "D"))
    frame = frame_at(media_dir, poor.time_ms + 500)
    drawn = clean.draw(frame)
    height = frame.image.shape[0]
    untouched = changed(drawn, frame.image)[height // 5 : height * 2 // 3]
    assert not untouched.any()  # between the count panel and the cue band: the athlete, no pose, no label
    assert changed(drawn, replace(clean, cues=()).draw(frame))[height * 3 // 4 :].mean() > 0.3


@pytest.mark.parametrize("size", [(390, 844), (1280, 720)])
def test_labels_scale_with_the_frame_and_stay_inside_it(size: tuple[int, int]) -> None:
    width, height = size
    pose = np.zeros((17, 3), dtype=np.float32)
    pose[[11, 13, 15], :2] = [[0.5, 0.4], [0.55, 0.6], [0.5, 0.8]]  # left hip, knee, ankle: a bent knee
    pose[[11, 13, 15], 2] = 0.9
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    draw_angle_labels(canvas, pose, ("knee",))
    rows = np.flatnonzero(canvas.any(axis=(1, 2)))
    label_height = rows[-1] - rows[0] + 1
    assert 0.025 * min(size) < label_height < 0.08 * min(size)  # about 4 % of the short side
    assert label_height >= 15


@pytest.mark.slow
def test_cli_export_shows_a_poor_reps_cue_but_sends_no_recommendations(media_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "curl.mp4"
    done = subprocess.run([*UPTRACK, "analyze", str(media_dir / CURL), "--exercise", "bicep_curl", "--export", str(out),
                           "--format", "json"], capture_output=True, text=True, timeout=600, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert "recommendations" not in {m["type"] for m in messages}
    poor = next(m for m in messages if m["type"] == "counter" and m["form_score"]["grade"] in ("C", "D"))
    source = frame_at(media_dir, poor["timestampMs"] + 500)
    capture = cv2.VideoCapture(str(out))
    capture.set(cv2.CAP_PROP_POS_FRAMES, source.index)
    ok, exported = capture.read()
    capture.release()
    assert ok
    height = exported.shape[0]
    bottom = (slice(height - height // 12, height - 20), slice(20, -20))  # inside the cue band
    assert exported[bottom].mean() < 0.7 * source.image[bottom].mean()  # darkened to 30 %, light text on it
