"""Reference tracking on the shared clips: one squat rep as the reference counts squats, not jumping jacks.

Expected counts come from MANIFEST.csv (`true_reps`). The reference is cut from the side-view squat clip around
its second rep: the manifest's notes put the bottoms at ~2.6/5.6/8.4 s, so 4.1-7.0 s holds exactly one rep.
Poses come from the committed compact MoveNet series in tests/data/poses (extracted with the pose engine when a
clip is missing there); the CLI test extracts its own poses end to end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from uptrack.contract.grades import MinGrade
from uptrack.contract.messages import CounterMessage, ExerciseSummaryMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.pose.series import PoseSeries
from uptrack.reference.session import reference_messages
from uptrack.reference.signature import ReferenceMovement, create_reference
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import extract_series, load_series

from tests.support.paths import REPO

POSES = REPO / "tests" / "data" / "poses"
REFERENCE_CLIP = "squat/squat_side_man_3reps_yuyoujiang.mp4"
REFERENCE_SPAN_S = (4.1, 7.0)
UPTRACK = [sys.executable, "-m", "uptrack_service.cli.main"]


def poses(media_dir: Path, file: str) -> PoseSeries:
    """The smoothed MoveNet series of a shared clip, as the pipeline hands it to the analysis."""
    cached = POSES / f"{Path(file).stem}.npz"
    series = (
        load_series(cached.read_bytes()) if cached.is_file() else extract_series(media_dir / file, "movenet_lightning")
    )
    return smooth_series(series)


def clips(manifest: list[dict[str, str]], exercise: str) -> list[dict[str, str]]:
    return [row for row in manifest if row["exercise"] == exercise]


@pytest.fixture(scope="module")
def squat_reference(media_dir: Path) -> ReferenceMovement:
    start, end = REFERENCE_SPAN_S
    return create_reference(poses(media_dir, REFERENCE_CLIP), "tester", 1000 * start, 1000 * end, "squat rep")


def analyse(
    series: PoseSeries, reference: ReferenceMovement, min_grade: MinGrade | None = None
) -> ExerciseSummaryMessage:
    request = AnalysisRequest(reference=reference.id, min_grade=min_grade)
    messages = reference_messages(series, request, reference)
    summary = messages[-1]
    assert isinstance(summary, ExerciseSummaryMessage)
    counters = [m for m in messages if isinstance(m, CounterMessage) and not m.final]
    assert [c.current_count for c in counters] == list(range(1, summary.counter + 1))
    return summary


def test_squat_reference_counts_every_shared_squat_clip(
    media_dir: Path, manifest: list[dict[str, str]], squat_reference: ReferenceMovement
) -> None:
    results = {}
    for row in clips(manifest, "squat"):
        summary = analyse(poses(media_dir, row["file"]), squat_reference)
        results[row["file"]] = (summary.counter, int(row["true_reps"]), summary.avg_similarity)
    assert len(results) >= 4
    misses = {file: result for file, result in results.items() if abs(result[0] - result[1]) > 1}
    assert not misses, f"(counted, true, similarity) off by more than one: {misses}; all: {results}"


def test_jumping_jacks_are_not_squats(
    media_dir: Path, manifest: list[dict[str, str]], squat_reference: ReferenceMovement
) -> None:
    for row in clips(manifest, "jumping_jack"):
        summary = analyse(poses(media_dir, row["file"]), squat_reference, min_grade="C")
        assert summary.counter == 0, row["file"]
        assert summary.avg_similarity is not None and summary.avg_similarity < 0.6, (row["file"], summary)


def uptrack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*UPTRACK, *args], capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_cli_creates_uses_and_deletes_a_reference(
    media_dir: Path, manifest: list[dict[str, str]], tmp_path: Path
) -> None:
    store = ["--store", str(tmp_path)]
    start, end = REFERENCE_SPAN_S
    created = uptrack("reference", "create", str(media_dir / REFERENCE_CLIP), "--start", str(start), "--end", str(end),
                      *store)  # fmt: skip
    assert created.returncode == 0, created.stderr
    reference_id = created.stdout.strip()
    listed = [json.loads(line) for line in uptrack("reference", "list", *store).stdout.splitlines()]
    assert [r["id"] for r in listed] == [reference_id] and listed[0]["owner"] == "local"

    target = next(r for r in clips(manifest, "squat") if r["file"] != REFERENCE_CLIP and float(r["duration_s"]) < 12)
    analysed = uptrack("analyze", str(media_dir / target["file"]), "--reference", reference_id, *store)
    assert analysed.returncode == 0, analysed.stderr
    messages = [json.loads(line) for line in analysed.stdout.splitlines()]
    final = next(m for m in messages if m["type"] == "counter" and m.get("final"))
    assert abs(final["current_count"] - int(target["true_reps"])) <= 1
    assert {"nccScore", "dtwScore", "distScore", "poseScore", "timingScore", "movementScore"} <= set(
        final["reference_score"]
    )
    summary = next(m for m in messages if m["type"] == "exercise_summary")
    assert summary["reference"] == reference_id and summary["total_frames_compared"] > 0

    foreign = uptrack("analyze", str(media_dir / target["file"]), "--reference", reference_id, "--owner", "bob", *store)
    assert foreign.returncode == 2
    assert json.loads(foreign.stdout.splitlines()[-1])["code"] == "reference_not_found"
    assert uptrack("reference", "delete", reference_id, "--owner", "bob", *store).returncode == 2
    assert uptrack("reference", "delete", reference_id, *store).returncode == 0
    assert uptrack("reference", "list", *store).stdout == ""
