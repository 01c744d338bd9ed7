"""`uptrack analyze` with the newer catalogue ids, as a user runs it: every PoseTracker id and alias is accepted on
the command line, and real clips give their manifest's truth (a jump's air time within a frame, a hold's seconds
within one, a deadlift's reps)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
from uptrack.contract.messages import parse_message
from uptrack.contract.params import EXERCISE_ALIASES
from uptrack_service.cli.commands.analyze import add_parser, build_request

from tests.integration.test_cli_analyze import analyze
from tests.unit.exercises.test_catalogue_coverage import VENDOR_IDS

pytestmark = pytest.mark.slow


def _cli_request(path: Path, query: str) -> str | None:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return build_request(parser.parse_args(["analyze", str(path), "--query", query])).exercise


@pytest.mark.parametrize("given", [*VENDOR_IDS, "side_plank", *EXERCISE_ALIASES])
def test_the_command_line_accepts_every_vendor_id_and_alias(given: str, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    height = "&userHeightCm=170" if given == "jump_analysis" else ""
    assert _cli_request(clip, f"exercise={given}{height}") == EXERCISE_ALIASES.get(given, given)


def _row(manifest: list[dict[str, str]], folder: str, name_part: str) -> dict[str, str]:
    return next(r for r in manifest if r["file"].startswith(f"{folder}/") and name_part in r["file"])


def test_a_countermovement_jump_is_timed_within_a_frame(media_dir: Path, manifest: list[dict[str, str]]) -> None:
    row = _row(manifest, "jump", "cmj_front_forceplate")
    frames = [int(re.search(rf"{event} = .*?frame (\d+)", row["notes"]).group(1)) for event in ("takeoff", "landing")]  # type: ignore[union-attr]
    code, messages, stderr = analyze(str(media_dir / row["file"]), "--query", "exercise=jump&minGrade=A")
    assert code == 0, stderr
    for message in messages:
        parse_message(message)
    results = [m for m in messages if m["type"] == "jump_result"]
    assert len(results) == 1
    fps = 30.0  # the manifest's frame clock for this clip (its edit list makes containers report 29.945)
    assert abs(float(results[0]["airTimeSeconds"]) * fps - (frames[1] - frames[0])) <= 1.0  # type: ignore[arg-type]
    assert [m["type"] for m in messages][-3:] == ["counter", "jump_summary", "initialization"]


def test_jump_analysis_without_a_height_is_refused_before_any_work(media_dir: Path) -> None:
    clip = media_dir / "jump" / "vertical_jump_front_barefoot_red-shirt_1jumps_rmchi.mp4"
    code, messages, _ = analyze(str(clip), "--query", "exercise=jump_analysis")
    assert code != 0 and messages[-1]["code"] == "jump_analysis_missing_height"
    assert messages[-1]["details"] == {"exercise": "jump_analysis", "param": "userHeightCm"}


def test_a_cobra_hold_counts_its_seconds_and_coaches_first(media_dir: Path, manifest: list[dict[str, str]]) -> None:
    row = _row(manifest, "yoga", "cobra")
    held = float(re.search(r"held ~(\d+(?:\.\d+)?) s", row["notes"]).group(1))  # type: ignore[union-attr]
    code, messages, stderr = analyze(str(media_dir / row["file"]), "--query", "exercise=cobra")
    assert code == 0, stderr
    final = next(m for m in messages if m["type"] == "counter" and m.get("final"))
    assert abs(int(final["current_count"]) - held) <= 1.0  # type: ignore[call-overload]
    cues = [m for m in messages if m["type"] == "posture" and m["requirements"]]
    assert cues and all(m["ready"] is False for m in cues)


def test_a_side_view_deadlift_counts_its_reps(media_dir: Path, manifest: list[dict[str, str]]) -> None:
    row = _row(manifest, "deadlift", "side")
    code, messages, stderr = analyze(str(media_dir / row["file"]), "--exercise", "deadlift")
    assert code == 0, stderr
    summary = next(m for m in messages if m["type"] == "exercise_summary")
    assert summary["counter"] == int(row["true_reps"])


def test_plotting_a_jump_is_a_typed_error_not_a_traceback(media_dir: Path, tmp_path: Path) -> None:
    clip = media_dir / "jump" / "vertical_jump_front_barefoot_red-shirt_1jumps_rmchi.mp4"
    code, messages, stderr = analyze(str(clip), "--query", "exercise=jump", "--plot", str(tmp_path / "p.png"))
    assert code != 0 and messages == [messages[-1]] and messages[-1]["code"] == "feature_not_supported"
    assert "Traceback" not in stderr
