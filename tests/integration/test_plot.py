"""`uptrack analyze --plot OUT.png`: the main signal with each counted rep shaded in its grade's colour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from uptrack.contract.messages import ExerciseSummaryMessage, parse_message
from uptrack.export import GRADE_COLOURS
from uptrack_service.tools.plot import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH

from tests.support.paths import SAMPLE_VIDEO

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPTRACK, "analyze", *args], capture_output=True, text=True, timeout=600, check=False)


def test_plot_shades_every_counted_rep_and_keeps_stdout_as_asked(tmp_path: Path) -> None:
    out = tmp_path / "squat.png"
    done = run(str(SAMPLE_VIDEO), "--exercise", "squat", "--plot", str(out))
    assert done.returncode == 0, done.stderr
    messages = [parse_message(line) for line in done.stdout.splitlines()]
    assert not {"keypoints", "keypoints_batch"} & {m.type for m in messages}  # the plot's own need stays hidden
    summary = next(m for m in messages if isinstance(m, ExerciseSummaryMessage))
    assert summary.counter == 2 and summary.duration_ms is not None
    image = cv2.imread(str(out))
    assert image is not None and image.shape == (HEIGHT, WIDTH, 3)
    end_s = summary.duration_ms / 1000
    for rep in summary.history:
        middle = LEFT + round((WIDTH - LEFT - RIGHT) * (rep.start_ms + rep.end_ms) / 2000 / end_s)
        shade = 0.35 * np.array(GRADE_COLOURS[rep.grade]) + 0.65 * 255
        assert np.abs(np.median(plot_column(image, middle), axis=0) - shade).max() <= 2
    between = LEFT + round((WIDTH - LEFT - RIGHT) * (summary.history[0].end_ms + 300) / 1000 / end_s)
    assert (np.median(plot_column(image, between), axis=0) == 255).all()  # no shade outside the reps


def plot_column(image: np.ndarray, x: int) -> np.ndarray:
    """One pixel column of the plotting area (the curve and grid lines cross it on a few pixels only)."""
    return image[TOP + 1 : HEIGHT - BOTTOM, x].astype(int)


def test_plot_without_exercise_is_one_error_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "none.png"
    done = run(str(SAMPLE_VIDEO), "--plot", str(out))
    assert done.returncode == 2
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 1 and lines[0]["code"] == "invalid_params"
    assert "Traceback" not in done.stderr and not out.exists()


def test_plot_to_an_unwritable_path_is_one_line(tmp_path: Path) -> None:
    done = run(str(SAMPLE_VIDEO), "--exercise", "squat", "--plot", str(tmp_path / "missing" / "x.png"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("uptrack: cannot write the plot")
    assert "Traceback" not in done.stderr
