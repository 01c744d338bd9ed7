"""`make bench`: speed and memory of pose analysis on the shared clips, per clip and model.

Each measurement runs in a fresh process so peak RSS and cold start are that run's own. Rows:
- `plain`: the per-frame pipeline, one process, every frame decoded and tracked: analysed fps, real-time factor
  (video seconds per wall second), per-stage ms per frame (decode / preprocess / infer / postprocess), peak RSS
  and cold start (imports + model load);
- `uptrack`: what `uptrack analyze --exercise E` really does for the clip's manifest exercise (chunks in parallel
  worker processes, the exercise's sampling rate, then the aggregation into messages), measured in the same run
  for the comparison line.
Both rows give the rep count: the plain row's from its full-frame-rate series (counted after the clock stops),
the uptrack row's from its final `counter` message, so every line shows whether sampling changed a count.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uptrack.pose.series import PoseSeries

# No uptrack import at module level: a measuring process imports this module first, and its cold start must
# include importing onnxruntime, OpenCV and numpy.


@dataclass(frozen=True)
class BenchRow:
    clip: str
    model: str
    mode: str
    resolution: str
    frames: int
    video_s: float
    wall_s: float
    cold_start_s: float
    stage_ms: dict[str, float]
    peak_rss_mb: float
    reps: int | None = None

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s

    @property
    def realtime_factor(self) -> float:
        return self.video_s / self.wall_s


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _measure_plain(clip: Path, model: str, threads: int, exercise: str | None) -> BenchRow:
    """Cold start, then decode + track every frame of the clip in this process; reps counted off the clock."""
    start = time.perf_counter()
    from uptrack.media import Frame, iter_frames, probe_video
    from uptrack.pose.engine import EngineSettings, create_estimator, track_frames

    estimator = create_estimator(EngineSettings(model=model, threads=threads))
    cold_start = time.perf_counter() - start
    info = probe_video(clip)
    decode_s = [0.0]

    def timed(frames: Iterator[Frame]) -> Iterator[Frame]:
        while True:
            tick = time.perf_counter()
            frame = next(frames, None)
            decode_s[0] += time.perf_counter() - tick
            if frame is None:
                return
            yield frame

    begin = time.perf_counter()
    series = track_frames(estimator, timed(iter_frames(clip)), info.width, info.height, info.fps)
    wall = time.perf_counter() - begin
    frames = len(series)
    stages = {"decode": 1000.0 * decode_s[0] / max(frames, 1), **estimator.timer.per_frame_ms(frames)}
    return BenchRow(
        clip.name,
        model,
        "plain",
        f"{info.width}x{info.height}",
        frames,
        info.duration_s,
        wall,
        cold_start,
        stages,
        _peak_rss_mb(),
        _full_rate_reps(series, exercise),
    )


def _full_rate_reps(series: PoseSeries, exercise: str | None) -> int | None:
    from uptrack.exercises.analysis import analyze_exercise
    from uptrack.exercises.catalogue import get_exercise
    from uptrack.smoothing import smooth_series

    if exercise is None:
        return None
    return len(analyze_exercise(smooth_series(series), get_exercise(exercise), "medium").reps)


def _measure_pipeline(clip: Path, model: str, workers: int, exercise: str | None) -> BenchRow:
    """`analyze_path` end to end (every message built), as `uptrack analyze --exercise` runs it."""
    from uptrack.contract.messages import CounterMessage
    from uptrack.contract.params import AnalysisRequest
    from uptrack.media import probe_video
    from uptrack.pipeline import LocalRun, analyze_path, request_stride

    info = probe_video(clip)
    request = AnalysisRequest(exercise=exercise)
    begin = time.perf_counter()
    messages = list(analyze_path(clip, request, LocalRun(model=model, workers=workers)))
    wall = time.perf_counter() - begin
    if messages[-1].model_dump().get("type") == "error":
        raise RuntimeError(f"{clip.name}: {messages[-1]}")
    finals = [m.current_count for m in messages if isinstance(m, CounterMessage) and m.final]
    analysed = -(-info.frame_count // request_stride(request, info.fps))
    return BenchRow(
        clip.name,
        model,
        f"uptrack x{workers}",
        f"{info.width}x{info.height}",
        analysed,
        info.duration_s,
        wall,
        0.0,
        {},
        _peak_rss_mb(),
        finals[-1] if finals else None,
    )


def run_isolated(function: Callable[..., BenchRow], *args: object) -> BenchRow:
    """Run one measurement in a fresh (non-daemonic, so it may start workers) process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def shared_clips(media: Path, only_720p: bool) -> list[tuple[Path, str | None]]:
    """Manifest clips with the catalogue exercise to analyse them as (the first one a manifest name maps to)."""
    from uptrack_service.tools.accuracy import catalogue_ids

    with (media / "MANIFEST.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["file"].endswith(".mp4")]
    if only_720p:
        rows = [row for row in rows if sorted((int(row["width"]), int(row["height"]))) == [720, 1280]]
    return [(media / row["file"], next(iter(catalogue_ids(row["exercise"])), None)) for row in rows]


def print_table(rows: list[BenchRow]) -> None:
    header = (
        f"{'clip':<42} {'model':<18} {'mode':<10} {'size':>9} {'frames':>6} {'fps':>6} {'x RT':>6} "
        f"{'dec':>5} {'pre':>5} {'inf':>5} {'post':>5} {'RSS MB':>7} {'cold s':>6} {'reps':>4}"
    )
    print(header)
    print("-" * len(header))
    plain_rows = {(row.clip, row.model): row for row in rows if row.mode == "plain"}
    for row in rows:
        ms = row.stage_ms
        stages = " ".join(
            f"{ms[k]:>5.1f}" if k in ms else f"{'':>5}" for k in ("decode", "preprocess", "infer", "postprocess")
        )
        cold = f"{row.cold_start_s:>6.2f}" if row.cold_start_s else f"{'':>6}"
        reps = f"{row.reps:>4}" if row.reps is not None else f"{'':>4}"
        print(
            f"{row.clip[:42]:<42} {row.model:<18} {row.mode:<10} {row.resolution:>9} {row.frames:>6} "
            f"{row.fps:>6.1f} {row.realtime_factor:>6.2f} {stages} {row.peak_rss_mb:>7.0f} {cold} {reps}"
        )
        plain = plain_rows.get((row.clip, row.model))
        if row.mode != "plain" and plain is not None:
            print(f"  {comparison_line(plain, row)}")


def comparison_line(plain: BenchRow, pipeline: BenchRow) -> str:
    """How much faster the pipeline is than the plain loop on the same clip and model, and whether the counts agree."""
    line = f"-> {pipeline.mode} is {pipeline.realtime_factor / plain.realtime_factor:.2f}x the plain loop"
    if plain.reps is None or pipeline.reps is None:
        return line
    verdict = "same count" if plain.reps == pipeline.reps else "COUNT DIFFERS"
    return f"{line}; reps at full frame rate {plain.reps}, in the pipeline {pipeline.reps} ({verdict})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    from uptrack.pose.engine import MODEL_NAMES

    parser.add_argument("--models", nargs="*", default=list(MODEL_NAMES))
    parser.add_argument("--all-clips", action="store_true", help="every clip, not only the 720p ones")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads of the plain rows")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers of the uptrack rows")
    parser.add_argument("--json", type=Path, help="also write the rows here (the cost model reads them)")
    args = parser.parse_args()
    rows = []
    for clip, exercise in shared_clips(args.media, only_720p=not args.all_clips):
        for model in args.models:
            rows.append(run_isolated(_measure_plain, clip, model, args.threads, exercise))
            rows.append(run_isolated(_measure_pipeline, clip, model, args.workers, exercise))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1))


if __name__ == "__main__":
    main()
