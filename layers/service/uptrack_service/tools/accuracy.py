"""`make accuracy`: rep counts of the product's own entry point against the true counts of every shared clip.

Each manifest row with a true count is analysed twice, with default settings:

- as `uptrack analyze` does it (`uptrack.pipeline.analyze_path`: chunk plan, worker processes, aggregation);
- as the cloud does it: the validation Lambda's chunk plan, one `infer_chunk` per chunk as the inference Lambdas
  run it, each chunk's keypoints through the object store and joined by the aggregator's `load_series`, then the
  aggregator's `video_messages`. Both must give the same counts.

Truth comes from MANIFEST.csv (never from file names). A negative row (no exercise, or reps that must not count) is
analysed as the rep exercises `MANIFEST_EXERCISES` names for it and must count 0; a hold row reports the seconds
held (its `true` column is 0 reps, not seconds, so holds stay out of the count statistics). Printed: one row per
(clip, exercise), then exact %, within-one %, mean |pred − true| / max(true, 1) over the rep rows, per folder of
the media (the class of footage), and how many rows the two paths count alike. It is a report: the exit code is 0
whatever the numbers. `--export-poses` writes each clip's full-frame-rate poses in the compact form the tests keep.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

import numpy as np
from uptrack.chunks import infer_chunk
from uptrack.contract.messages import BaseMessage, CounterMessage, ErrorMessage, ExerciseSummaryMessage, WarningMessage
from uptrack.contract.params import AnalysisRequest, parse_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.media import probe_video
from uptrack.pipeline import LocalRun, analyze_path, model_for, request_stride, video_messages
from uptrack.pose.engine import DEFAULT_MODEL, EngineSettings, PoseEstimator, create_estimator
from uptrack.pose.keypoints import COCO_KEYPOINTS
from uptrack.pose.series import PoseSeries

from uptrack_service.adapters.memory import MemoryObjectStore
from uptrack_service.models import ChunkItem
from uptrack_service.pipeline import aggregation
from uptrack_service.pipeline.validation import chunk_plan
from uptrack_service.settings import ServiceSettings

MANIFEST_EXERCISES: Final[Mapping[str, tuple[str, ...]]] = {
    "squat": ("squat",),
    "pushup": ("push_up",),
    "jumping_jack": ("jumping_jack",),
    "bicep_curl": ("bicep_curl",),
    "lunge": ("lunge",),
    "situp": ("sit_up",),
    "pullup": ("pull_up",),
    "high_knees": ("high_knees",),
    "shoulder_press": ("shoulder_press",),
    "lateral_raise": ("lateral_raise",),
    "glute_bridge": ("glute_bridge",),
    "side_lunge": ("side_lunge",),
    "plank (hold)": ("plank",),
    "wall_sit (hold)": ("wall_sit",),
    "plank (negative)": ("push_up", "squat"),
    "bicep_curl (partial reps)": ("bicep_curl",),
    "dance (negative)": ("squat",),
    "walking (negative)": ("squat", "high_knees"),
    "stretch (negative)": ("squat", "lateral_raise"),
}
"""Manifest exercise names → catalogue ids to run. A negative clip runs as the exercise the issue of its kind is
(squat for any motion) and as the one its motion most resembles (knee lifts when walking, an arm sweep when
stretching); it must count 0. Names not listed map to themselves when the catalogue has that id."""

#: The cloud's settings as deployed by default (only the chunking is read here; the names are placeholders).
CLOUD_SETTINGS: Final = ServiceSettings(
    uploads_bucket="accuracy", uploads_table="accuracy", connections_table="accuracy", tokens_table="accuracy"
)


@dataclass(frozen=True)
class Clip:
    """One manifest video row with a true count."""

    path: Path
    exercise: str
    true_reps: int

    @property
    def kind(self) -> str:
        """The class of footage: the media folder the clip lives in."""
        return self.path.parent.name


@dataclass(frozen=True)
class Outcome:
    """What a client reads at the end of one analysis."""

    count: int
    """The final counter: reps, or whole seconds held."""
    grades: str
    warnings: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class Row:
    clip: Clip
    exercise_id: str
    is_hold: bool
    product: Outcome
    cloud: Outcome

    @property
    def error(self) -> int:
        return abs(self.product.count - self.clip.true_reps)


def catalogue_ids(manifest_exercise: str) -> tuple[str, ...]:
    """The catalogue exercises a manifest row is analysed as (none when the catalogue cannot run it)."""
    known = exercise_ids()
    named = MANIFEST_EXERCISES.get(manifest_exercise, (manifest_exercise,))
    return tuple(name for name in named if name in known)


def manifest_clips(media: Path) -> list[Clip]:
    """Video rows of MANIFEST.csv with a true count."""
    with (media / "MANIFEST.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Clip(media / row["file"], row["exercise"], int(row["true_reps"])) for row in rows if row["true_reps"].strip()
    ]


def request_for(exercise_id: str) -> AnalysisRequest:
    """The request `uptrack analyze PATH --exercise ID` sends: everything else at its default."""
    query = {"source": "video", "exercise": exercise_id}
    return parse_query(query, exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())


def outcome(messages: Iterable[BaseMessage]) -> Outcome:
    count, grades, warnings, error = 0, "", [], None
    for message in messages:
        if isinstance(message, CounterMessage) and message.final:
            count = message.current_count
        elif isinstance(message, ExerciseSummaryMessage):
            grades = "".join(rep.grade or "?" for rep in message.history)
        elif isinstance(message, WarningMessage):
            warnings.append(message.code)
        elif isinstance(message, ErrorMessage):
            error = message.code
    return Outcome(count, grades, tuple(warnings), error)


def product_outcome(clip: Clip, exercise_id: str, workers: int) -> Outcome:
    """`uptrack analyze` with its defaults (one onnxruntime thread per worker, a worker per CPU)."""
    return outcome(analyze_path(clip.path, request_for(exercise_id), LocalRun(workers=workers)))


def cloud_outcome(clip: Clip, exercise_id: str, estimators: dict[str, PoseEstimator]) -> Outcome:
    """The state machine's path on one machine: plan, one inference per chunk, keypoints stored, aggregated."""
    request = request_for(exercise_id)
    model = model_for(request)
    if model not in estimators:
        estimators[model] = create_estimator(EngineSettings(model=model))
    estimator = estimators[model]
    info = probe_video(clip.path)
    stride = request_stride(request, info.fps)
    objects, items = MemoryObjectStore(), []
    for chunk in chunk_plan(info, CLOUD_SETTINGS):
        item = ChunkItem(index=chunk.index, start=chunk.start, stop=chunk.stop, key=f"chunks/{chunk.index:05d}.npz")
        objects.put_bytes(item.key, infer_chunk(clip.path, chunk, estimator, info, stride).to_bytes(), "npz")
        items.append(item)
    series = aggregation.load_series(objects, items)
    return outcome(video_messages(series, request, expected_frames=info.frame_count))


def count_table(rows: list[Row]) -> list[str]:
    header = f"{'clip':<58} {'exercise':<14} {'true':>4} {'count':>5} {'cloud':>5} {'verdict':<9} grades / warnings"
    lines = [header, "-" * len(header)]
    for row in rows:
        verdict = _verdict(row)
        notes = " ".join(filter(None, [row.product.grades, *row.product.warnings, row.product.error or ""]))
        lines.append(
            f"{row.clip.path.stem[:58]:<58} {row.exercise_id:<14} {row.clip.true_reps:>4} {row.product.count:>5} "
            f"{row.cloud.count:>5} {verdict:<9} {notes}"
        )
    return lines


def _verdict(row: Row) -> str:
    if row.is_hold:
        return f"held {row.product.count}s"
    return "exact" if row.error == 0 else "off by 1" if row.error == 1 else f"off by {row.error}"


def summary_lines(rows: list[Row]) -> list[str]:
    """Exact %, within-one % and mean normalised error over the rep rows, overall and per class of footage."""
    reps = [row for row in rows if not row.is_hold]
    same = sum(row.product.count == row.cloud.count and row.product.grades == row.cloud.grades for row in rows)
    lines = [*_stats("all rep rows", reps), ""]
    for kind in sorted({row.clip.kind for row in reps}):
        lines += _stats(kind, [row for row in reps if row.clip.kind == kind])
    lines += ["", f"cloud chunk plan gives the same counts and grades: {same}/{len(rows)}"]
    return lines


def _stats(label: str, rows: list[Row]) -> list[str]:
    if not rows:
        return [f"{label}: no rows"]
    exact = sum(r.error == 0 for r in rows)
    within = sum(r.error <= 1 for r in rows)
    normalised = float(np.mean([r.error / max(r.clip.true_reps, 1) for r in rows]))
    return [
        f"{label:<18} rows {len(rows):>3}  exact {exact:>3} ({100 * exact / len(rows):5.1f} %)  "
        f"within one {within:>3} ({100 * within / len(rows):5.1f} %)  MAE {normalised:.3f}"
    ]


def compact_bytes(series: PoseSeries) -> bytes:
    """The small on-disk form kept as test data: COCO x, y, score as float16, the frame clock and the camera cuts;
    no video."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        coco=series.coco.astype(np.float16),
        presence=series.presence.astype(np.float16),
        frame_index=series.frame_index.astype(np.int32),
        timestamp_ms=series.timestamp_ms.astype(np.float32),
        cut=series.cuts,
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
            cut=archive["cut"].astype(bool) if "cut" in archive.files else None,
        )


def extract_series(path: Path, model: str) -> PoseSeries:
    """Track every frame of a clip with one model on one thread (the reference extraction), camera cuts flagged as
    the product flags them."""
    from uptrack.media import iter_frames, probe_video
    from uptrack.pose.engine import EngineSettings, create_estimator, track_frames

    info = probe_video(path)
    estimator = create_estimator(EngineSettings(model=model, threads=1))
    return track_frames(estimator, iter_frames(path, detect_cuts=True), info.width, info.height, info.fps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="as `uptrack analyze` (default)")
    parser.add_argument("--only", default="", help="analyse only the clips whose path contains this text")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--export-poses", type=Path, help="write each clip's full-rate poses here (compact form)")
    args = parser.parse_args(argv)
    clips = [clip for clip in manifest_clips(args.media) if args.only in str(clip.path)]
    if args.export_poses is not None:
        export_poses(clips, args.export_poses)
        return 0
    rows: list[Row] = []
    skipped: list[str] = []
    estimators: dict[str, PoseEstimator] = {}
    for clip in clips:
        ids = catalogue_ids(clip.exercise)
        if not ids:
            skipped.append(f"{clip.path.name} ({clip.exercise})")
        for exercise_id in ids:
            is_hold = exercise_id in duration_exercise_ids()
            product = product_outcome(clip, exercise_id, args.workers)
            rows.append(Row(clip, exercise_id, is_hold, product, cloud_outcome(clip, exercise_id, estimators)))
            print(count_table(rows[-1:])[-1], flush=True)
    print("\n".join(["", *count_table(rows), "", *summary_lines(rows)]))
    if skipped:
        print(f"\nnot in the catalogue ({len(skipped)}): " + ", ".join(skipped))
    if args.json is not None:
        args.json.write_text(json.dumps([_json_row(row) for row in rows], indent=1))
    return 0


def _json_row(row: Row) -> dict[str, object]:
    return {
        "file": f"{row.clip.kind}/{row.clip.path.name}",
        "exercise": row.exercise_id,
        "true": row.clip.true_reps,
        "hold": row.is_hold,
        "product": asdict(row.product),
        "cloud": asdict(row.cloud),
    }


def export_poses(clips: list[Clip], folder: Path) -> None:
    """Each clip's poses at the full frame rate, one continuous track, in the compact form (tests' data)."""
    folder.mkdir(parents=True, exist_ok=True)
    for clip in clips:
        (folder / f"{clip.path.stem}.npz").write_bytes(compact_bytes(extract_series(clip.path, DEFAULT_MODEL)))


if __name__ == "__main__":
    raise SystemExit(main())
