"""`make bench`: speed and memory of the pose pipeline on the shared clips, per clip and model.

Each (clip, model) runs in a fresh process so peak RSS and cold start are that run's own. Printed per row:
analysed fps, real-time factor (video seconds per wall second), per-stage ms per analysed frame
(decode / preprocess / infer / postprocess), peak RSS and cold start (imports + model load).
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from uptrack.pose.engine import MODEL_NAMES


@dataclass(frozen=True)
class BenchRow:
    clip: str
    model: str
    resolution: str
    frames: int
    video_s: float
    wall_s: float
    cold_start_s: float
    stage_ms: dict[str, float]
    peak_rss_mb: float

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s

    @property
    def realtime_factor(self) -> float:
        return self.video_s / self.wall_s


def _measure(clip: Path, model: str, threads: int) -> BenchRow:
    """One run, inside a fresh process: cold start, then decode + track every frame of the clip."""
    start = time.perf_counter()
    from uptrack.media import probe_video
    from uptrack.pose.engine import EngineSettings, create_estimator
    from uptrack.pose.series import PoseSeries  # noqa: F401  (part of what a worker imports)

    estimator = create_estimator(EngineSettings(model=model, threads=threads))
    cold_start = time.perf_counter() - start
    info = probe_video(clip)
    frames = 0
    begin = time.perf_counter()
    decode_s = 0.0
    from uptrack.media import iter_frames

    iterator = iter_frames(clip)
    while True:
        tick = time.perf_counter()
        frame = next(iterator, None)
        decode_s += time.perf_counter() - tick
        if frame is None:
            break
        estimator.track(frame.image)
        frames += 1
    wall = time.perf_counter() - begin
    stages = {"decode": 1000.0 * decode_s / max(frames, 1), **estimator.timer.per_frame_ms(frames)}
    return BenchRow(
        clip=clip.name,
        model=model,
        resolution=f"{info.width}x{info.height}",
        frames=frames,
        video_s=info.duration_s,
        wall_s=wall,
        cold_start_s=cold_start,
        stage_ms=stages,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def run_isolated(clip: Path, model: str, threads: int) -> BenchRow:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_measure, (clip, model, threads))


def shared_clips(media: Path, only_720p: bool) -> list[Path]:
    with (media / "MANIFEST.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["file"].endswith(".mp4")]
    if only_720p:
        rows = [row for row in rows if sorted((int(row["width"]), int(row["height"]))) == [720, 1280]]
    return [media / row["file"] for row in rows]


def print_table(rows: list[BenchRow]) -> None:
    header = (
        f"{'clip':<44} {'model':<18} {'size':>9} {'frames':>6} {'fps':>6} {'x RT':>5} "
        f"{'dec':>5} {'pre':>5} {'inf':>5} {'post':>5} {'RSS MB':>7} {'cold s':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        ms = row.stage_ms
        print(
            f"{row.clip[:44]:<44} {row.model:<18} {row.resolution:>9} {row.frames:>6} {row.fps:>6.1f} "
            f"{row.realtime_factor:>5.2f} {ms.get('decode', 0):>5.1f} {ms.get('preprocess', 0):>5.1f} "
            f"{ms.get('infer', 0):>5.1f} {ms.get('postprocess', 0):>5.1f} {row.peak_rss_mb:>7.0f} "
            f"{row.cold_start_s:>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--models", nargs="*", default=list(MODEL_NAMES))
    parser.add_argument("--all-clips", action="store_true", help="every clip, not only the 720p ones")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows here (input of uptrack_service.cost_model)")
    args = parser.parse_args()
    rows = []
    for clip in shared_clips(args.media, only_720p=not args.all_clips):
        for model in args.models:
            try:
                rows.append(run_isolated(clip, model, args.threads))
            except FileNotFoundError as missing:
                print(f"skipped {model}: {missing}")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=1))


if __name__ == "__main__":
    main()
