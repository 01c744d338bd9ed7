"""The command line as a newcomer meets it: finding the exercises, readable output, options that cannot apply,
clear errors, and `--help` that shows how to start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from uptrack.exercises.catalogue import EXERCISES

from tests.support.paths import REPO, SAMPLE_VIDEO

UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]
PHOTO = "photos/skimage_astronaut_upper_body.png"


def uptrack(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPTRACK, *args], capture_output=True, text=True, timeout=600, check=False, cwd=cwd)


def test_exercises_lists_the_catalogue_as_a_table_and_as_json() -> None:
    table = uptrack("exercises")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["id", "kind", "aliases", "views", "measures"]
    assert {line.split()[0] for line in table.stdout.splitlines()[1:]} == {e.id for e in EXERCISES}
    rows = json.loads(uptrack("exercises", "--json").stdout)
    assert {row["id"]: row["kind"] for row in rows}["plank"] == "hold"


def test_help_shows_examples_the_exercise_ids_and_the_version() -> None:
    top = uptrack("--help").stdout
    assert "examples:" in top and "uptrack exercises" in top
    assert all(e.id in top for e in EXERCISES)
    analyze = uptrack("analyze", "--help").stdout
    assert "examples:" in analyze and "BlazePose" in analyze
    assert uptrack("--version").stdout.strip().startswith("uptrack ")


def test_an_unknown_exercise_suggests_the_id_meant() -> None:
    piped = uptrack("analyze", str(SAMPLE_VIDEO), "--exercise", "squats")
    assert piped.returncode == 2
    error = json.loads(piped.stdout)
    assert error["code"] == "invalid_exercise" and error["details"]["suggestions"] == ["squat"]
    text = uptrack("analyze", str(SAMPLE_VIDEO), "--exercise", "squats", "--format", "text")
    assert text.returncode == 2 and text.stdout == ""
    assert "did you mean squat?" in text.stderr


def test_a_mistyped_option_gets_the_subcommands_usage_and_the_option_meant() -> None:
    done = uptrack("analyze", str(SAMPLE_VIDEO), "--exercize", "squat")
    assert done.returncode == 2
    assert done.stderr.startswith("usage: uptrack analyze")
    assert "did you mean --exercise?" in done.stderr


@pytest.mark.slow
def test_text_format_ends_with_a_summary_of_each_rep() -> None:
    done = uptrack("analyze", str(SAMPLE_VIDEO), "--exercise", "squat", "--format", "text")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"{SAMPLE_VIDEO.name} · squat · 2 reps · grade ")
    assert lines[1].split() == ["rep", "at", "grade", "score", "failed"]
    assert [line.split()[0] for line in lines[2:4]] == ["1", "2"]
    assert not any(line.startswith("{") for line in lines)
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("media", "options", "said"),
    [
        ("video", ["--overlay", "out.png"], "--overlay"),
        ("photo", ["--export", "out.mp4"], "--export"),
        ("photo", ["--exercise", "squat"], "--exercise"),
        ("video", ["--exercise", "squat", "--query", "export=true"], "export=true needs --export"),
    ],
)
def test_an_option_that_cannot_apply_is_refused(
    media: str, options: list[str], said: str, media_dir: Path, tmp_path: Path
) -> None:
    path = SAMPLE_VIDEO if media == "video" else media_dir / PHOTO
    done = uptrack("analyze", str(path), *options, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("uptrack analyze: error: ") and said in done.stderr
    assert list(tmp_path.iterdir()) == [], "nothing is written"


def test_a_missing_file_and_a_folder_are_told_apart(tmp_path: Path) -> None:
    missing = json.loads(uptrack("analyze", str(tmp_path / "nope.mp4")).stdout)
    folder = json.loads(uptrack("analyze", str(tmp_path)).stdout)
    assert missing["message"] == f"No such file: {tmp_path / 'nope.mp4'}"
    assert folder["message"] == f"{tmp_path} is a folder: pass a video or photo file."


@pytest.mark.slow
def test_a_cut_off_clip_warns_before_the_summary_and_decoders_stay_quiet(tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(SAMPLE_VIDEO.read_bytes()[:300_000])  # the first second or so survives
    done = uptrack("analyze", str(cut), "--exercise", "squat", "--format", "text")
    assert done.stderr == "", "no FFmpeg or OpenCV notes"
    lines = done.stdout.splitlines()
    assert lines[0].startswith("warning: media_truncated")
    assert lines[1].startswith("cut.mp4 · squat · ")
    unreadable = tmp_path / "head.mp4"
    unreadable.write_bytes(SAMPLE_VIDEO.read_bytes()[:3000])
    broken = uptrack("analyze", str(unreadable), "--exercise", "squat", "--format", "text")
    assert broken.returncode == 2
    assert broken.stderr.splitlines() == [
        "uptrack: error: media_decode_error: The file could not be opened as a video."
    ], "one line of our own, none of the decoder's"


def test_the_readme_lists_the_exercises_as_the_command_does() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert uptrack("exercises").stdout in readme, "README's table is `uptrack exercises`' output (regenerate it)"
