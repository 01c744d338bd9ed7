"""`make accuracy` (second part): the shared clips of the newer catalogue entries, against the manifest's truth.

* repetition clips (deadlift, dips, calf raises, mountain climbers, leg raises): true vs counted reps;
* holds (yoga rows): seconds held vs the seconds the manifest notes say were held ("held ~N s"); a pose with no
  PoseTracker id is listed as such, not run as a look-alike;
* jumps: air time against the notes' take-off and landing frames (first airborne, first contact), the error in
  frames at the clip's frame rate, and the height that follows (h = g·t²/8).

Every clip is analysed as the pipeline analyses it: reps and holds smoothed at the request's sampling rate, jumps
unsmoothed at the full frame rate. Poses come from the same cache as `uptrack_service.tools.accuracy`. A report:
the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.exercises.jumps import analyze_jumps
from uptrack.pipeline import request_stride
from uptrack.pose.engine import DEFAULT_MODEL, MODEL_NAMES
from uptrack.pose.series import PoseSeries
from uptrack.smoothing import smooth_series

from uptrack_service.tools.accuracy import Clip, clip_series

REPETITIONS: Final[Mapping[str, str]] = {
    "deadlift": "deadlift",
    "tricep_dip": "tricep_dip",
    "calf_raise": "calf_raise",
    "mountain_climber": "mountain_climber",
    "leg_raise": "leg_raise",
}
"""Manifest exercise → catalogue id, for the repetition rows."""

HOLDS: Final[Mapping[str, str | None]] = {
    "cobra (hold)": "cobra",
    "tree (hold)": "balance_leg",
    "triangle (hold)": None,
    "forward_fold (hold)": None,
}
"""Manifest hold → catalogue id (None: PoseTracker has no such pose; tree pose is a one-leg balance)."""

_HELD: Final = re.compile(r"held ~(\d+(?:\.\d+)?) s")
_TAKEOFF: Final = re.compile(r"takeoff = .*?frame (\d+)")
_LANDING: Final = re.compile(r"landing = .*?frame (\d+)")


@dataclass(frozen=True)
class Row:
    clip: str
    exercise: str
    truth: str
    measured: str
    error: str


def manifest_rows(media: Path) -> list[dict[str, str]]:
    with (media / "MANIFEST.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def sampled(series: PoseSeries, exercise_id: str) -> PoseSeries:
    """What the pipeline's aggregator gets for this exercise: every n-th frame, smoothed."""
    stride = request_stride(AnalysisRequest(exercise=exercise_id), series.fps)
    return smooth_series(series.select(series.frame_index % stride == 0))


def rep_row(clip: Clip, series: PoseSeries, exercise_id: str) -> Row:
    counted = len(analyze_exercise(sampled(series, exercise_id), get_exercise(exercise_id), "medium").reps)
    return Row(clip.stem, exercise_id, str(clip.true_reps), str(counted), f"{counted - clip.true_reps:+d}")


def hold_row(clip: Clip, series: PoseSeries, exercise_id: str | None) -> Row:
    found = _HELD.search(clip.notes)
    truth = float(found.group(1)) if found else float("nan")
    if exercise_id is None:
        return Row(clip.stem, clip.exercise, f"{truth:g} s", "no PoseTracker id", "-")
    held = analyze_exercise(sampled(series, exercise_id), get_exercise(exercise_id), "medium").hold_seconds
    return Row(clip.stem, exercise_id, f"{truth:g} s", f"{held} s", f"{held - truth:+.1f} s")


def jump_rows(clip: Clip, series: PoseSeries, fps: float) -> list[Row]:
    """One row per measured jump (and per discarded attempt); the truth is the notes' frame pair."""
    takeoff, landing = _TAKEOFF.search(clip.notes), _LANDING.search(clip.notes)
    true_frames = int(landing.group(1)) - int(takeoff.group(1)) if takeoff and landing else None
    truth = f"{true_frames} fr = {true_frames / fps:.3f} s" if true_frames is not None else "?"
    analysis = analyze_jumps(series, "air_time_jump", None)
    rows = [
        Row(
            clip.stem,
            "air_time_jump",
            truth,
            f"{jump.air_time_s:.3f} s, {jump.height_cm:.1f} cm",
            f"{jump.air_time_s * fps - true_frames:+.2f} fr" if true_frames is not None else "-",
        )
        for jump in analysis.jumps
    ]
    rows += [Row(clip.stem, "air_time_jump", truth, f"discarded: {d.reason}", "-") for d in analysis.discarded]
    return rows or [Row(clip.stem, "air_time_jump", truth, "no jump found", "-")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m uptrack_service.tools.catalogue_accuracy", description=__doc__)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--model", choices=MODEL_NAMES, default=DEFAULT_MODEL)
    parser.add_argument("--cache", type=Path, help="folder of <clip>.npz poses (read, and written when missing)")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    for record in manifest_rows(args.media):
        name = record["exercise"]
        if name not in REPETITIONS and name not in HOLDS and name != "jump":
            continue
        clip = Clip(args.media / record["file"], name, int(record["true_reps"] or 0), record.get("notes", ""))
        series = clip_series(clip, args.model, args.cache)
        if name in REPETITIONS:
            rows.append(rep_row(clip, series, REPETITIONS[name]))
        elif name in HOLDS:
            rows.append(hold_row(clip, series, HOLDS[name]))
        else:
            rows += jump_rows(clip, series, float(record["fps"]))
    width = max((len(r.clip) for r in rows), default=4)
    print(f"{'clip':<{width}}  {'exercise':<16}  {'truth':<18}  {'measured':<24}  error")
    for r in rows:
        print(f"{r.clip:<{width}}  {r.exercise:<16}  {r.truth:<18}  {r.measured:<24}  {r.error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
