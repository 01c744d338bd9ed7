"""`make accuracy`: predicted vs true rep counts on every shared clip with a known exercise, and per-rep grades.

Truth comes from the media folder's MANIFEST.csv (never from file names). Poses are read from a cache folder of
`<clip stem>.npz` files (a `PoseSeries` or the compact test format) or extracted here with the chosen model,
then smoothed and analysed exactly as the pipeline does. Printed: one row per (clip, exercise) with the count
error, then exact-match %, off-by-one % and the mean normalised error (|pred − true| / max(true, 1)), how many
rows count the same at the pipeline's sampling rate (`analysis_fps`: every n-th frame of the full-rate series
kept) as at the full frame rate, then for the
clips whose manifest notes describe partial, shallow or bad-form reps, every attempt's score and what
`minGrade=B` keeps. It is a report: the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from uptrack.contract.grades import grade_at_least
from uptrack.contract.params import AnalysisRequest, Difficulty
from uptrack.exercises.analysis import ExerciseAnalysis, analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.pipeline import request_stride
from uptrack.pose.engine import DEFAULT_MODEL, MODEL_NAMES
from uptrack.pose.keypoints import COCO_KEYPOINTS
from uptrack.pose.series import PoseSeries
from uptrack.smoothing import smooth_series

MANIFEST_EXERCISES: Final[Mapping[str, tuple[str, ...]]] = {
    "squat": ("squat",),
    "pushup": ("push_up",),
    "jumping_jack": ("jumping_jack",),
    "bicep_curl": ("bicep_curl",),
    "lunge": ("lunge",),
    "situp": ("sit_up",),
    "pullup": ("pull_up",),
    "plank (negative)": ("push_up", "squat"),
    "bicep_curl (partial reps)": ("bicep_curl",),
}
"""Manifest exercise names → catalogue ids to run; a negative clip is run as rep exercises that must count 0."""

FORM_NOTES: Final = ("partial", "shallow", "bad form", "bad-form")
"""Manifest notes mentioning any of these mark a clip whose reps' grades are reported one by one."""


@dataclass(frozen=True)
class Clip:
    """One manifest row with a known exercise."""

    path: Path
    exercise: str
    true_reps: int
    notes: str

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def has_form_faults(self) -> bool:
        return any(word in self.notes.lower() for word in FORM_NOTES)


@dataclass(frozen=True)
class Row:
    clip: Clip
    exercise_id: str
    analysis: ExerciseAnalysis
    sampled_reps: int
    """Reps counted at the pipeline's sampling rate for this exercise."""

    @property
    def predicted(self) -> int:
        return len(self.analysis.reps)

    @property
    def error(self) -> int:
        return abs(self.predicted - self.clip.true_reps)


def manifest_clips(media: Path) -> list[Clip]:
    """Rows of MANIFEST.csv whose exercise maps to the catalogue and whose true count is known."""
    with (media / "MANIFEST.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Clip(media / row["file"], row["exercise"], int(row["true_reps"]), row.get("notes", ""))
        for row in rows
        if row["exercise"] in MANIFEST_EXERCISES and row["true_reps"].strip()
    ]


def compact_bytes(series: PoseSeries) -> bytes:
    """The small on-disk form kept as test data: COCO x, y, score as float16 and the frame clock; no video."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        coco=series.coco.astype(np.float16),
        presence=series.presence.astype(np.float16),
        frame_index=series.frame_index.astype(np.int32),
        timestamp_ms=series.timestamp_ms.astype(np.float32),
        meta=np.array([series.width, series.height, series.fps], dtype=np.float64),
        model=np.array(series.model),
    )
    return buffer.getvalue()


def load_series(data: bytes) -> PoseSeries:
    """A `PoseSeries` from either a full `PoseSeries.to_bytes` archive or the compact form."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        if "coco" not in archive:
            return PoseSeries.from_bytes(data)
        coco = archive["coco"].astype(np.float32)
        width, height, fps = archive["meta"].tolist()
        keypoints = np.stack([coco[..., 0], coco[..., 1], np.full_like(coco[..., 0], np.nan), coco[..., 2]], -1)
        return PoseSeries(
            model=str(archive["model"]),
            names=COCO_KEYPOINTS,
            frame_index=archive["frame_index"].astype(np.int64),
            timestamp_ms=archive["timestamp_ms"].astype(np.float32),
            keypoints=keypoints,
            presence=archive["presence"].astype(np.float32),
            width=int(width),
            height=int(height),
            fps=float(fps),
        )


def extract_series(path: Path, model: str) -> PoseSeries:
    """Track every frame of a clip with one model on one thread (the reference extraction)."""
    from uptrack.media import iter_frames, probe_video
    from uptrack.pose.engine import EngineSettings, create_estimator, track_frames

    info = probe_video(path)
    estimator = create_estimator(EngineSettings(model=model, threads=1))
    return track_frames(estimator, iter_frames(path), info.width, info.height, info.fps)


def clip_series(clip: Clip, model: str, cache: Path | None) -> PoseSeries:
    """Cached poses when the cache has them; otherwise extracted (and written to the cache when one is given)."""
    cached = cache / f"{clip.stem}.npz" if cache is not None else None
    if cached is not None and cached.is_file():
        return load_series(cached.read_bytes())
    series = extract_series(clip.path, model)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(series.to_bytes())
    return series


def analyse_clip(clip: Clip, series: PoseSeries, difficulty: Difficulty) -> list[Row]:
    """Smooth like the pipeline, then analyse once per catalogue exercise the clip maps to, at the full frame rate
    and at the pipeline's sampling rate for that exercise."""
    smoothed = smooth_series(series)
    rows = []
    for exercise_id in MANIFEST_EXERCISES[clip.exercise]:
        exercise = get_exercise(exercise_id)
        stride = request_stride(AnalysisRequest(exercise=exercise_id), series.fps)
        sampled = smooth_series(series.select(series.frame_index % stride == 0))
        sampled_reps = len(analyze_exercise(sampled, exercise, difficulty).reps)
        rows.append(Row(clip, exercise_id, analyze_exercise(smoothed, exercise, difficulty), sampled_reps))
    return rows


def summary_lines(rows: list[Row]) -> list[str]:
    """Exact-match %, off-by-one % and mean normalised error over all rows."""
    if not rows:
        return ["no clips evaluated"]
    exact = 100.0 * sum(r.error == 0 for r in rows) / len(rows)
    off_by_one = 100.0 * sum(r.error <= 1 for r in rows) / len(rows)
    normalised = float(np.mean([r.error / max(r.clip.true_reps, 1) for r in rows]))
    same = sum(r.sampled_reps == r.predicted for r in rows)
    return [
        f"clips x exercises: {len(rows)}",
        f"exact match:       {exact:.1f} %",
        f"off by one:        {off_by_one:.1f} %",
        f"mean |pred-true|/max(true,1): {normalised:.3f}",
        f"pipeline sampling rate counts as the full frame rate: {same}/{len(rows)}",
    ]


def count_table(rows: list[Row]) -> list[str]:
    header = f"{'clip':<52} {'exercise':<13} {'view':<5} {'true':>4} {'pred':>4} {'|err|':>5} {'sampled':>7}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.clip.stem[:52]:<52} {row.exercise_id:<13} {row.analysis.view:<5} {row.clip.true_reps:>4} "
            f"{row.predicted:>4} {row.error:>5} {row.sampled_reps:>7}"
        )
    return lines


def form_report(rows: list[Row]) -> list[str]:
    """Every attempt of the clips with form faults: span, depth reached, score, grade, verdict, kept at minGrade B."""
    lines: list[str] = []
    for row in rows:
        if not row.clip.has_form_faults:
            continue
        kept = [r for r in row.analysis.reps if grade_at_least(r.grade, "B")]
        lines.append(
            f"{row.clip.stem} ({row.exercise_id}): counted {row.predicted}, minGrade=B keeps {len(kept)} "
            f"(true {row.clip.true_reps})"
        )
        for rep in row.analysis.candidates:
            keep = "kept" if rep.counted and grade_at_least(rep.grade, "B") else "dropped"
            criteria = " ".join(f"{name}={value:.0f}" for name, value in rep.criteria.items())
            lines.append(
                f"  {rep.start_ms / 1000:6.2f}-{rep.end_ms / 1000:6.2f}s depth {rep.peak_progress:4.2f} "
                f"score {rep.score:5.1f} {rep.grade} {rep.reason:<9} B:{keep:<7} [{criteria}]"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--model", choices=MODEL_NAMES, default=DEFAULT_MODEL)
    parser.add_argument("--cache", type=Path, help="folder of <clip stem>.npz pose series (read, and filled)")
    parser.add_argument("--difficulty", choices=("easy", "medium", "hard"), default="medium")
    parser.add_argument("--export-poses", type=Path, help="also write each clip's poses here in the compact form")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for clip in manifest_clips(args.media):
        series = clip_series(clip, args.model, args.cache)
        if args.export_poses is not None:
            args.export_poses.mkdir(parents=True, exist_ok=True)
            (args.export_poses / f"{clip.stem}.npz").write_bytes(compact_bytes(series))
        rows.extend(analyse_clip(clip, series, args.difficulty))
    print("\n".join([*count_table(rows), "", *summary_lines(rows), "", *form_report(rows)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
