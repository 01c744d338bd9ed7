"""Rep counts and grades on real footage: MoveNet Lightning pose series of the shared clips (tests/data/poses).

The poses were extracted once from ../shared/media with
`python -m uptrack_service.tools.accuracy --media ../shared/media --export-poses tests/data/poses` (keypoints only, no
video). Expectations are read from the media folder's MANIFEST.csv at test time, so the folder must be present;
without it these tests skip. Tolerance: exact counts — the counter achieves it on every clip, so any regression
shows. Mapping of manifest exercise names to catalogue ids: `MANIFEST_EXERCISES` (negative clips must count 0).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from uptrack.contract.grades import grade_at_least
from uptrack.contract.messages import CounterMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.analysis import ExerciseAnalysis, analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.session import exercise_messages
from uptrack.pipeline import request_stride
from uptrack.pose.series import PoseSeries
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import MANIFEST_EXERCISES, load_series

from tests.support.paths import MEDIA, REPO

POSES = REPO / "tests" / "data" / "poses"
CLIPS = sorted(path.stem for path in POSES.glob("*.npz"))


def _manifest() -> dict[str, dict[str, str]]:
    """Manifest rows with a known exercise by clip stem; empty when the shared media are absent."""
    if not (MEDIA / "MANIFEST.csv").is_file():
        return {}
    with (MEDIA / "MANIFEST.csv").open(newline="") as handle:
        return {Path(r["file"]).stem: r for r in csv.DictReader(handle) if r["exercise"] in MANIFEST_EXERCISES}


MANIFEST = _manifest()


def _noted(*words: str) -> list[str]:
    """Cached clips whose manifest notes mention any of `words` (how the manifest flags form faults)."""
    return [stem for stem in CLIPS if any(w in MANIFEST.get(stem, {}).get("notes", "").lower() for w in words)]


def manifest_row(stem: str) -> dict[str, str]:
    if not MANIFEST:
        pytest.skip(f"shared media (MANIFEST.csv with the true counts) not found at {MEDIA}")
    if stem not in MANIFEST:
        pytest.skip(f"{stem} has no known exercise in the manifest")
    return MANIFEST[stem]


def poses(stem: str) -> PoseSeries:
    return smooth_series(load_series((POSES / f"{stem}.npz").read_bytes()))


def analyses(stem: str) -> list[tuple[str, ExerciseAnalysis]]:
    row = manifest_row(stem)
    series = poses(stem)
    return [(e, analyze_exercise(series, get_exercise(e), "medium")) for e in MANIFEST_EXERCISES[row["exercise"]]]


def test_every_manifest_clip_has_cached_poses() -> None:
    if not MANIFEST:
        pytest.skip(f"shared media not found at {MEDIA}")
    missing = sorted(set(MANIFEST) - set(CLIPS))
    if missing:
        pytest.skip(f"no cached poses for {missing}: re-run the export command in this module's docstring")


@pytest.mark.parametrize("stem", CLIPS)
def test_count_matches_the_manifest(stem: str) -> None:
    true_reps = int(manifest_row(stem)["true_reps"])
    for exercise, analysis in analyses(stem):
        assert len(analysis.reps) == true_reps, f"{stem} as {exercise}: {[r.reason for r in analysis.candidates]}"


@pytest.mark.parametrize("stem", CLIPS)
def test_the_pipeline_sampling_rate_counts_what_the_full_frame_rate_counts(stem: str) -> None:
    """The pipeline analyses every n-th frame (`analysis_fps`): same counts as the full-rate series, every clip."""
    full = load_series((POSES / f"{stem}.npz").read_bytes())
    for exercise, analysis in analyses(stem):
        stride = request_stride(AnalysisRequest(exercise=exercise), full.fps)
        sampled_poses = smooth_series(full.select(full.frame_index % stride == 0))
        sampled = analyze_exercise(sampled_poses, get_exercise(exercise), "medium")
        assert len(sampled.reps) == len(analysis.reps), f"{stem} as {exercise} every {stride} frames"


@pytest.mark.parametrize("stem", CLIPS)
def test_timestamps_are_inside_the_clip_and_in_order(stem: str) -> None:
    for _, analysis in analyses(stem):
        spans = [(r.start_ms, r.peak_ms, r.end_ms) for r in analysis.candidates]
        assert all(0 <= s <= p <= e <= analysis.duration_ms for s, p, e in spans)
        assert [s for s, _, _ in spans] == sorted(s for s, _, _ in spans)


@pytest.mark.parametrize("stem", _noted("partial", "shallow"))
def test_partial_and_shallow_attempts_score_below_every_clean_rep_and_do_not_count(stem: str) -> None:
    true_reps = int(manifest_row(stem)["true_reps"])
    for _, analysis in analyses(stem):
        shallow = [r for r in analysis.candidates if r.reason == "shallow"]
        assert shallow, "the partial rep was not even seen as an attempt"
        assert max(r.score for r in shallow) < min(r.score for r in analysis.reps)
        kept = [r for r in analysis.reps if grade_at_least(r.grade, "B")]
        assert len(kept) == true_reps  # the clean reps are graded B or better


@pytest.mark.parametrize("stem", _noted("bad form", "bad-form"))
def test_min_grade_b_drops_bad_form_reps_from_the_count(stem: str) -> None:
    row = manifest_row(stem)
    (exercise,) = MANIFEST_EXERCISES[row["exercise"]]
    request = AnalysisRequest(exercise=exercise, min_grade="B")
    final = exercise_messages(poses(stem), request, get_exercise(exercise))[-2]
    assert isinstance(final, CounterMessage) and final.final
    assert 1 <= final.current_count < int(row["true_reps"])
