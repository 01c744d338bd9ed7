"""`uptrack analyze` as a user runs it: JSON lines on stdout, exit codes, never a traceback."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from uptrack.contract.messages import parse_message

from tests.support.paths import SAMPLE_VIDEO

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]


def analyze(*args: str) -> tuple[int, list[dict[str, object]], str]:
    done = subprocess.run([*UPTRACK, "analyze", *args], capture_output=True, text=True, timeout=600, check=False)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, lines, done.stderr


def test_video_with_exercise_prints_valid_messages_in_contract_order() -> None:
    code, messages, stderr = analyze(str(SAMPLE_VIDEO), "--exercise", "squat", "--angles")
    assert code == 0, stderr
    for message in messages:
        parse_message(message)
    types = [m["type"] for m in messages]
    assert types[:2] == ["initialization", "environment"]
    assert "progress" in types and "angles" in types
    assert types[-1] == "initialization" and messages[-1]["ready"] is True
    summary = next(m for m in messages if m["type"] == "exercise_summary")
    final = next(m for m in messages if m["type"] == "counter" and m.get("final"))
    assert final["current_count"] == summary["counter"]
    stamps = [m["timestampMs"] for m in messages if m["type"] in ("angles", "counter") and not m.get("final")]
    assert stamps == sorted(stamps)


def test_photo_gives_keypoints_angles_and_an_overlay(media_dir: Path, tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.png"
    photo = media_dir / "photos" / "skimage_astronaut_upper_body.png"
    code, messages, stderr = analyze(str(photo), "--keypoints", "--angles", "--overlay", str(overlay))
    assert code == 0, stderr
    types = [m["type"] for m in messages]
    assert {"keypoints", "angles", "image_overlay"} <= set(types)
    assert "counter" not in types
    keypoints = next(m for m in messages if m["type"] == "keypoints")
    assert keypoints["data"] == keypoints["keypoints"] and len(keypoints["data"]) == 17
    nose = next(k for k in keypoints["data"] if k["name"] == "nose")
    assert 0.3 < nose["x"] < 0.7 and nose["y"] < 0.5
    drawn = cv2.imread(str(overlay))
    original = cv2.imread(str(photo))
    assert drawn.shape == original.shape
    assert np.abs(drawn.astype(int) - original.astype(int)).sum() > 0
    data_url = next(m for m in messages if m["type"] == "image_overlay")["data"]
    assert base64.b64decode(str(data_url).split(",", 1)[1]) == overlay.read_bytes()


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "empty.mp4", "video_load_error"),
        (b"\x00\x01garbage" * 500, "random.mp4", "unsupported_media_format"),
    ],
)
def test_bad_files_give_one_typed_error_and_exit_2(tmp_path: Path, content: bytes, name: str, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    status, messages, stderr = analyze(str(path), "--exercise", "squat")
    assert status == 2
    errors = [m for m in messages if m["type"] == "error"]
    assert len(errors) == 1 and errors[0]["code"] == code and errors[0]["error"] == code
    assert "Traceback" not in stderr


def test_unknown_exercise_is_invalid_exercise() -> None:
    status, messages, _ = analyze(str(SAMPLE_VIDEO), "--exercise", "moonwalk")
    assert status == 2
    assert messages[-1]["type"] == "error" and messages[-1]["code"] == "invalid_exercise"


def test_missing_file_is_a_load_error_not_a_traceback(tmp_path: Path) -> None:
    status, messages, stderr = analyze(str(tmp_path / "nope.mp4"), "--exercise", "squat")
    assert status == 2 and messages[-1]["code"] == "video_load_error"
    assert "Traceback" not in stderr
