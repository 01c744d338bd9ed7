"""`make accuracy` (second part): holds and jumps of the shared clips against the manifest's truth.

The reps of every exercise (the newer ones included) are in the first part, `uptrack_service.tools.accuracy`.
This part measures what a count cannot show, on the same product path (`uptrack analyze`'s `analyze_path`, default
settings, worker processes):

* holds (yoga rows): seconds held (the final `counter`) vs the seconds the manifest notes say were held
  ("held ~N s"); a pose with no PoseTracker id is listed as such, not run as a look-alike;
* jumps: air time from the `jump_result` messages against the notes' take-off and landing frames (first airborne,
  first contact), the error in frames at the clip's frame rate, and the height that follows (h = g·t²/8).

A report: the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from uptrack.contract.messages import BaseMessage, CounterMessage, ErrorMessage, JumpDiscardedMessage, JumpResultMessage
from uptrack.pipeline import LocalRun, analyze_path

from uptrack_service.tools.accuracy import request_for

HOLDS: Final[Mapping[str, str | None]] = {
    "cobra (hold)": "cobra",
    "tree (hold)": "balance_leg",
    "triangle (hold)": None,
    "forward_fold (hold)": None,
}
"""Manifest hold → catalogue id (None: PoseTracker has no such pose; tree pose is a one-leg balance)."""

JUMP_EXERCISE: Final = "air_time_jump"
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


def _messages(path: Path, exercise_id: str, workers: int) -> list[BaseMessage]:
    return list(analyze_path(path, request_for(exercise_id), LocalRun(workers=workers)))


def _failure(messages: list[BaseMessage]) -> str | None:
    return next((m.code for m in messages if isinstance(m, ErrorMessage)), None)


def hold_row(path: Path, manifest_exercise: str, notes: str, workers: int) -> Row:
    found = _HELD.search(notes)
    truth = float(found.group(1)) if found else float("nan")
    exercise_id = HOLDS[manifest_exercise]
    if exercise_id is None:
        return Row(path.stem, manifest_exercise, f"{truth:g} s", "no PoseTracker id", "-")
    messages = _messages(path, exercise_id, workers)
    held = next((m.current_count for m in messages if isinstance(m, CounterMessage) and m.final), None)
    if held is None:
        return Row(path.stem, exercise_id, f"{truth:g} s", _failure(messages) or "no final counter", "-")
    return Row(path.stem, exercise_id, f"{truth:g} s", f"{held} s", f"{held - truth:+.1f} s")


def jump_rows(path: Path, notes: str, fps: float, workers: int) -> list[Row]:
    """One row per measured jump (and per discarded attempt); the truth is the notes' frame pair."""
    takeoff, landing = _TAKEOFF.search(notes), _LANDING.search(notes)
    true_frames = int(landing.group(1)) - int(takeoff.group(1)) if takeoff and landing else None
    truth = f"{true_frames} fr = {true_frames / fps:.3f} s" if true_frames is not None else "?"
    messages = _messages(path, JUMP_EXERCISE, workers)
    rows = [
        Row(
            path.stem,
            JUMP_EXERCISE,
            truth,
            f"{(m.air_time_ms or 0) / 1000:.3f} s, {m.jump_height_cm:.1f} cm",
            f"{(m.air_time_ms or 0) / 1000 * fps - true_frames:+.2f} fr" if true_frames is not None else "-",
        )
        for m in messages
        if isinstance(m, JumpResultMessage)
    ]
    rows += [
        Row(path.stem, JUMP_EXERCISE, truth, f"discarded: {m.reason}", "-")
        for m in messages
        if isinstance(m, JumpDiscardedMessage)
    ]
    return rows or [Row(path.stem, JUMP_EXERCISE, truth, _failure(messages) or "no jump found", "-")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m uptrack_service.tools.catalogue_accuracy", description=__doc__)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="as `uptrack analyze` (default)")
    args = parser.parse_args(argv)
    with (args.media / "MANIFEST.csv").open(newline="") as handle:
        records = list(csv.DictReader(handle))
    rows: list[Row] = []
    for record in records:
        path, name, notes = args.media / record["file"], record["exercise"], record.get("notes", "")
        if name in HOLDS:
            rows.append(hold_row(path, name, notes, args.workers))
        elif name == "jump":
            rows += jump_rows(path, notes, float(record["fps"]), args.workers)
    width = max((len(r.clip) for r in rows), default=4)
    print(f"{'clip':<{width}}  {'exercise':<16}  {'truth':<18}  {'measured':<24}  error")
    for r in rows:
        print(f"{r.clip:<{width}}  {r.exercise:<16}  {r.truth:<18}  {r.measured:<24}  {r.error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
