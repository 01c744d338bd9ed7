"""Latency (p50, p95) and cost of one analysis on AWS, from measured times and published service figures.

Run `python -m uptrack_service.tools.cost_model --bench docs/bench.json --cold-starts docs/cold_starts.json`
(`make bench` writes the first; `python -m tests.support.cold_starts --json docs/cold_starts.json` the second).
Every other input is a named constant below with its source; docs/performance.md holds a run's output.

The critical path of a video, upload finished to final message: S3 -> EventBridge -> the validation function
(an image function: cold start = container init + handler import + first client) -> StartExecution -> the Map
(its own start and close overhead) -> one inference function per chunk, all at once up to MaxConcurrency (cold:
container init + import + client + model load; the Map waits for the slowest of them) -> the aggregation function
(cold start too) -> messages. Cost = list prices, us-east-1, x86, per video.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import NormalDist
from typing import Final, Literal

from uptrack.chunks import DEFAULT_CHUNK_FRAMES, SEGMENT_FRAMES

# --- Published prices (AWS pricing pages, us-east-1, on-demand, x86) -------------------------------------------
LAMBDA_GB_SECOND_USD: Final = 0.0000166667
LAMBDA_PROVISIONED_GB_SECOND_USD: Final = 0.0000041667  # provisioned concurrency, per GB-second kept warm
LAMBDA_REQUEST_USD: Final = 0.20 / 1_000_000
SFN_STANDARD_TRANSITION_USD: Final = 0.025 / 1000
SFN_EXPRESS_REQUEST_USD: Final = 1.00 / 1_000_000
SFN_EXPRESS_GB_SECOND_USD: Final = 0.00001667  # first tier, billed on 64 MB memory per child
S3_PUT_USD: Final = 0.005 / 1000
S3_GET_USD: Final = 0.0004 / 1000
EVENTBRIDGE_EVENT_USD: Final = 1.00 / 1_000_000
WEBSOCKET_MESSAGE_USD: Final = 1.00 / 1_000_000
SECONDS_PER_MONTH: Final = 30 * 24 * 3600

# --- Published behaviour ---------------------------------------------------------------------------------------
LAMBDA_MB_PER_VCPU: Final = 1769  # Lambda allocates CPU in proportion to memory; 1 full vCPU at 1,769 MB
INLINE_MAP_MAX_CONCURRENCY: Final = 40  # Step Functions: an inline Map runs at most 40 iterations at once
PARENT_TRANSITIONS: Final = 6  # Route -> Map -> Aggregate -> ExportWanted -> Analysed (+ start)
INLINE_TRANSITIONS_PER_CHUNK: Final = 1  # the iteration's one Task state, in the STANDARD parent
STANDARD_TRANSITIONS_PER_CHILD: Final = 3  # a STANDARD child: start, Task, success
# A Distributed Map's own overhead around its children. The one public measurement found: 100 no-op items,
# EXPRESS children, MapRunStarted -> MapRunSucceeded 7+ s with the work done within a second of the start
# (re:Post, "Why is Step Function's Distributed Map slow?"); p95 assumed 1.5x.
DISTRIBUTED_MAP_S: Final = {"p50": 7.0, "p95": 10.5}
# An inline Map in the parent: one more state, its iterations dispatched like Task states (assumed, no figure).
INLINE_MAP_S: Final = {"p50": 0.2, "p95": 0.5}
# Sandbox and image start of a container-image function beyond the handler's own imports, for a ~350 MB image
# on a Lambda base (AWS "On-demand Container Loading in AWS Lambda", USENIX ATC 2023, and A. Stuyvenberg's
# benchmarks, 2024: large Python images cold-start in about 1 s with the base layers cached); assumed 1.0 / 3.0 s.
CONTAINER_INIT_S: Final = {"p50": 1.0, "p95": 3.0}
# S3 -> EventBridge -> Lambda delivery: no AWS figure; assumed.
S3_EVENT_S: Final = {"p50": 0.5, "p95": 1.5}

# --- Measured or derived here ------------------------------------------------------------------------------------
VALIDATION_WORK_S: Final = 0.3  # probe (first frame decode) + manifest PUT + StartExecution
CHUNK_S3_OVERHEAD_S: Final = 0.15  # first byte of the ranged read + PUT of the chunk's keypoints
AGGREGATE_BASE_S: Final = 0.4  # GET chunk files in parallel, store + publish the rep-level messages
AGGREGATE_MS_PER_FRAME: Final = 0.45  # smoothing + exercise analysis + messages per analysed frame (1 vCPU)
GOP_FRAMES: Final = 60  # phone H.264 puts a keyframe every 1-2 s; a chunk seeks back to one: half a GOP extra
MESSAGES_PER_VIDEO: Final = 40  # without per-frame keypoints/angles (counter, summary, progress, ...)
PIXELS_1080P_OVER_720P: Final = (1920 * 1080) / (1280 * 720)

# --- What is compared --------------------------------------------------------------------------------------------
VIDEO_LENGTHS_S: Final = (60.0, 600.0)
LATENCY_TARGET_S: Final = {60.0: 5.0, 600.0: 15.0}
COST_TARGET_PER_MINUTE_USD: Final = 0.002
CHUNK_CHOICES: Final = tuple(SEGMENT_FRAMES * n for n in (1, 2, 3, 5, 10))
Quantile = Literal["p50", "p95"]
MapMode = Literal["distributed", "inline"]
Function = Literal["validate", "infer", "aggregate"]
FUNCTIONS: Final[tuple[Function, ...]] = ("validate", "infer", "aggregate")


@dataclass(frozen=True)
class FrameCost:
    """Milliseconds per frame at one full vCPU, from `make bench` on 720p clips."""

    decode_720p_ms: float
    model_ms: float  # preprocess + infer + postprocess per analysed frame


@dataclass(frozen=True)
class ColdStart:
    """Seconds a cold function spends before its work, per quantile: handler import, first boto3 client, model
    load (inference only), measured by `tests.support.cold_starts` on the image's files; plus the container init."""

    validate: dict[str, float]
    infer: dict[str, float]
    aggregate: dict[str, float]

    def of(self, function: Function, quantile: Quantile) -> float:
        measured = {"validate": self.validate, "infer": self.infer, "aggregate": self.aggregate}[function]
        return measured[quantile] + CONTAINER_INIT_S[quantile]

    def slowest_of(self, count: int, quantile: Quantile) -> float:
        """The Map waits for its slowest chunk: the quantile of the largest of `count` independent inference cold
        starts, each taken as normal through its p50 and p95 (the q-quantile of a maximum of n draws is one
        draw's q^(1/n)-quantile)."""
        p50, p95 = self.of("infer", "p50"), self.of("infer", "p95")
        one = NormalDist(p50, max(p95 - p50, 1e-6) / NormalDist().inv_cdf(0.95))
        return one.inv_cdf({"p50": 0.5, "p95": 0.95}[quantile] ** (1 / max(count, 1)))


@dataclass(frozen=True)
class Design:
    chunk_frames: int = DEFAULT_CHUNK_FRAMES
    memory_mb: int = 1769
    map_mode: MapMode = "distributed"
    max_concurrency: int = 100
    warm: bool = False  # every function on the path already initialised (steady traffic or provisioned)


@dataclass(frozen=True)
class Estimate:
    chunks: int
    chunk_s: float
    latency_s: dict[str, float]
    cost_usd: float

    def per_minute(self, video_s: float) -> float:
        return self.cost_usd / (video_s / 60)


def _chunk_seconds(design: Design, cost: FrameCost, stride: int) -> float:
    vcpu = design.memory_mb / LAMBDA_MB_PER_VCPU
    slowdown = 1 / min(vcpu, 1.0)  # one decode thread + one inference thread; below 1 vCPU both slow down
    overlap = 2.0 if vcpu >= 2 else 1.0  # decode and inference pipelined on two cores
    decoded = design.chunk_frames + GOP_FRAMES / 2
    work_ms = decoded * cost.decode_720p_ms * PIXELS_1080P_OVER_720P + design.chunk_frames / stride * cost.model_ms
    return work_ms / 1000 * slowdown / overlap + CHUNK_S3_OVERHEAD_S


def _aggregate_seconds(design: Design, video_s: float, stride: int) -> float:
    slowdown = 1 / min(design.memory_mb / LAMBDA_MB_PER_VCPU, 1.0)
    return (AGGREGATE_BASE_S + video_s * 30 / stride * AGGREGATE_MS_PER_FRAME / 1000) * slowdown


def _latency(design: Design, video_s: float, chunks: int, chunk_s: float, cold: ColdStart, q: Quantile) -> float:
    concurrency = min(design.max_concurrency, INLINE_MAP_MAX_CONCURRENCY if design.map_mode == "inline" else 10_000)
    waves = math.ceil(chunks / concurrency)
    starts = 0.0 if design.warm else cold.of("validate", q) + cold.of("aggregate", q) + cold.slowest_of(chunks, q)
    map_s = (DISTRIBUTED_MAP_S if design.map_mode == "distributed" else INLINE_MAP_S)[q]
    return S3_EVENT_S[q] + VALIDATION_WORK_S + map_s + starts + waves * chunk_s


def estimate(design: Design, video_s: float, cost: FrameCost, cold: ColdStart, stride: int = 2) -> Estimate:
    frames = math.ceil(video_s * 30)
    chunks = math.ceil(frames / design.chunk_frames)
    chunk_s = _chunk_seconds(design, cost, stride)
    aggregate_s = _aggregate_seconds(design, video_s, stride)
    latency = {q: _latency(design, video_s, chunks, chunk_s, cold, q) + aggregate_s for q in ("p50", "p95")}
    gb = design.memory_mb / 1024
    init_s = 0.0 if design.warm else cold.of("validate", "p50") + cold.of("aggregate", "p50")
    init_s += 0.0 if design.warm else chunks * cold.of("infer", "p50")  # init is billed for image functions
    lambda_s = chunks * chunk_s + VALIDATION_WORK_S + aggregate_s + init_s
    compute = lambda_s * gb * LAMBDA_GB_SECOND_USD + (chunks + 2) * LAMBDA_REQUEST_USD
    if design.map_mode == "inline":
        orchestration = (PARENT_TRANSITIONS + chunks * INLINE_TRANSITIONS_PER_CHUNK) * SFN_STANDARD_TRANSITION_USD
    else:
        orchestration = PARENT_TRANSITIONS * SFN_STANDARD_TRANSITION_USD + chunks * (
            SFN_EXPRESS_REQUEST_USD + chunk_s * 64 / 1024 * SFN_EXPRESS_GB_SECOND_USD
        )
    storage = (chunks + 3) * S3_PUT_USD + (chunks * 2 + 3) * S3_GET_USD
    delivery = MESSAGES_PER_VIDEO * (EVENTBRIDGE_EVENT_USD + WEBSOCKET_MESSAGE_USD)
    return Estimate(chunks, chunk_s, latency, compute + orchestration + storage + delivery)


def provisioned_usd_per_month(instances: int, memory_mb: int) -> float:
    """What keeping `instances` environments initialised costs a month (provisioned concurrency, before any use)."""
    return instances * memory_mb / 1024 * SECONDS_PER_MONTH * LAMBDA_PROVISIONED_GB_SECOND_USD


def frame_cost_from_bench(path: Path, model: str) -> FrameCost:
    rows = [
        row
        for row in json.loads(path.read_text())
        if row["model"] == model and row["mode"] == "plain" and "720" in row["resolution"]
    ]
    if not rows:
        raise SystemExit(f"no 720p rows for {model} in {path}")

    def mean(key: str) -> float:
        return float(sum(r["stage_ms"].get(key, 0.0) for r in rows) / len(rows))

    return FrameCost(mean("decode"), mean("preprocess") + mean("infer") + mean("postprocess"))


def _quantiles(runs: dict[str, list[float]]) -> dict[str, float]:
    """p50 = median of the summed stages; p95 = the slowest run (a handful of runs: no finer tail)."""
    totals = [sum(stage) for stage in zip(*runs.values(), strict=True)]
    return {"p50": statistics.median(totals), "p95": max(totals)}


def cold_start_from_runs(path: Path) -> ColdStart:
    measured = json.loads(path.read_text())
    return ColdStart(
        validate=_quantiles(measured["validate_upload.app"]),
        infer=_quantiles(measured["infer_chunk.app"]),
        aggregate=_quantiles(measured["aggregate.app"]),
    )


DESIGNS: Final = tuple(
    Design(chunk_frames=chunk, map_mode=mode, max_concurrency=100, warm=warm)
    for mode in ("distributed", "inline")
    for warm in (False, True)
    for chunk in CHUNK_CHOICES
)


def template_design(video_s: float, inline_max_chunks: int = 40) -> Design:
    """What the template's defaults run (ChunkFrames, InlineMapMaxChunks): the inline Map up to 40 chunks."""
    chunks = math.ceil(video_s * 30 / Design().chunk_frames)
    return Design(map_mode="inline" if chunks <= inline_max_chunks else "distributed")


def pick(video_s: float, cost: FrameCost, cold: ColdStart, stride: int) -> tuple[Design, Estimate, bool]:
    """The cheapest cold design meeting the p50 latency target and the cost target for this length; failing that,
    the one with the smallest p50 overrun. The flag says whether both targets hold."""
    scored = []
    for design in (d for d in DESIGNS if not d.warm):
        run = estimate(design, video_s, cost, cold, stride)
        meets = run.latency_s["p50"] <= LATENCY_TARGET_S[video_s] and run.per_minute(video_s) <= (
            COST_TARGET_PER_MINUTE_USD
        )
        scored.append((not meets, max(run.latency_s["p50"] - LATENCY_TARGET_S[video_s], 0.0), run.cost_usd, design))
    failed, _, _, design = min(scored, key=lambda item: item[:3])
    return design, estimate(design, video_s, cost, cold, stride), not failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bench", type=Path, default=Path("docs/bench.json"))
    parser.add_argument("--cold-starts", type=Path, default=Path("docs/cold_starts.json"))
    parser.add_argument("--model", default="movenet_lightning")
    parser.add_argument("--stride", type=int, default=2)
    args = parser.parse_args()
    cost = frame_cost_from_bench(args.bench, args.model)
    cold = cold_start_from_runs(args.cold_starts)
    print(
        f"per frame at 1 vCPU ({args.model}): decode 720p {cost.decode_720p_ms:.2f} ms (1080p x"
        f"{PIXELS_1080P_OVER_720P:.2f}), model {cost.model_ms:.2f} ms; cold start incl. container init "
        + ", ".join(
            f"{f} {cold.of(f, 'p50'):.2f}/{cold.of(f, 'p95'):.2f} s" for f in ("validate", "infer", "aggregate")
        )
    )
    print(
        f"{'video':>5} {'map':>11} {'warm':>5} {'chunk':>5} {'chunks':>6} {'p50 s':>6} {'p95 s':>6} {'$/video-min':>11}"
    )
    for video_s in VIDEO_LENGTHS_S:
        for design in DESIGNS:
            run = estimate(design, video_s, cost, cold, args.stride)
            print(
                f"{video_s:>5.0f} {design.map_mode:>11} {'yes' if design.warm else 'no':>5} {design.chunk_frames:>5} "
                f"{run.chunks:>6} {run.latency_s['p50']:>6.2f} {run.latency_s['p95']:>6.2f} "
                f"{run.per_minute(video_s):>11.5f}"
            )
    for video_s in VIDEO_LENGTHS_S:
        design, run, met = pick(video_s, cost, cold, args.stride)
        print(
            f"{video_s:.0f} s video: {design.map_mode} map, {design.chunk_frames}-frame chunks, cold: p50 "
            f"{run.latency_s['p50']:.2f} s (target {LATENCY_TARGET_S[video_s]:.0f}), p95 {run.latency_s['p95']:.2f} s, "
            f"${run.per_minute(video_s):.5f}/video-minute (target {COST_TARGET_PER_MINUTE_USD}): "
            + ("both targets met" if met else "NOT met")
        )
    for video_s in VIDEO_LENGTHS_S:
        design = template_design(video_s)
        cold_run, warm_run = (
            estimate(replace(design, warm=w), video_s, cost, cold, args.stride) for w in (False, True)
        )
        print(
            f"template defaults, {video_s:.0f} s video ({design.map_mode} map): p50 {cold_run.latency_s['p50']:.2f} s "
            f"cold / {warm_run.latency_s['p50']:.2f} s warm, p95 {cold_run.latency_s['p95']:.2f} / "
            f"{warm_run.latency_s['p95']:.2f} s, ${cold_run.per_minute(video_s):.5f} / "
            f"${warm_run.per_minute(video_s):.5f} per video-minute"
        )
    warm_pool = math.ceil(60 * 30 / Design().chunk_frames) + 2
    print(
        f"provisioned concurrency for a warm 60-s path ({warm_pool} environments at {Design().memory_mb} MB): "
        f"${provisioned_usd_per_month(warm_pool, Design().memory_mb):.0f}/month before any use"
    )


if __name__ == "__main__":
    main()
