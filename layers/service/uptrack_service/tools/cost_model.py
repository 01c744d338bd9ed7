"""Latency and cost of one analysis on AWS, from measured per-frame times and published service figures.

Run `python -m uptrack_service.tools.cost_model --bench docs/bench.json` (the JSON `make bench` writes). Every
assumption is a named constant below, with its source; docs/aws-cost-model.md holds a run's output.

Model, per video: the validation Lambda probes and plans; a Distributed Map starts one inference Lambda per
chunk, all in parallel (one wave: the Map's concurrency exceeds the chunk count here); each decodes its
frame range from S3 and runs the pose model on every `stride`-th frame; the aggregator then joins the chunk
files and runs the exercise analysis. Latency = upload-to-final-message; cost = list prices, us-east-1, x86.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

# --- Published prices (AWS pricing pages, us-east-1, on-demand, x86) -----------------------------------
LAMBDA_GB_SECOND_USD = 0.0000166667
LAMBDA_REQUEST_USD = 0.20 / 1_000_000
SFN_STANDARD_TRANSITION_USD = 0.025 / 1000
SFN_EXPRESS_REQUEST_USD = 1.00 / 1_000_000
SFN_EXPRESS_GB_SECOND_USD = 0.00001667  # first tier, billed on 64 MB memory per child
S3_PUT_USD = 0.005 / 1000
S3_GET_USD = 0.0004 / 1000
EVENTBRIDGE_EVENT_USD = 1.00 / 1_000_000
WEBSOCKET_MESSAGE_USD = 1.00 / 1_000_000

# --- Published behaviour --------------------------------------------------------------------------------
LAMBDA_MB_PER_VCPU = 1769  # Lambda allocates CPU in proportion to memory; 1 full vCPU at 1,769 MB
LAMBDA_MAX_VCPU = 6.0
STANDARD_TRANSITIONS_PER_CHILD = 3  # child execution start, Task state, success
PARENT_TRANSITIONS = 6  # validate → Map start/end → aggregate → success

# --- Assumed overheads (seconds): measured here where possible, else conservative published figures ---
S3_EVENT_TO_VALIDATION_S = 0.5  # S3 → EventBridge → Lambda delivery
VALIDATION_S = 0.3  # probe (first frame decode) + manifest PUT + StartExecution
MAP_START_S = 0.5  # Distributed Map reads the manifest and launches children
CHUNK_S3_OVERHEAD_S = 0.15  # first byte of the ranged read + PUT of the chunk's keypoints
AGGREGATE_BASE_S = 0.4  # GET chunk files in parallel, store + publish the rep-level messages
AGGREGATE_MS_PER_FRAME = 0.45  # smoothing + exercise analysis + messages per analysed frame (measured, 1 vCPU)
GOP_FRAMES = 60  # phone H.264 puts a keyframe every 1–2 s; a chunk seeks back to one: half a GOP decoded extra
MAX_CONCURRENCY = 100  # the template's Distributed Map MaxConcurrency: chunks beyond it run in further waves
EXPORT_FREE_MESSAGES = 40  # messages per video without per-frame keypoints/angles (counter, summary, …)
PIXELS_1080P_OVER_720P = (1920 * 1080) / (1280 * 720)

# --- What is compared ----------------------------------------------------------------------------------------
VIDEO_LENGTHS_S = (60.0, 600.0)
LATENCY_TARGET_S = {60.0: 5.0, 600.0: 15.0}
COST_TARGET_PER_MINUTE_USD = 0.002
CHUNK_CHOICES = (60, 90, 120, 300, 600)
MEMORY_CHOICES = (1024, 1769, 3008)


@dataclass(frozen=True)
class FrameCost:
    """Milliseconds per frame at one full vCPU, from `make bench` on 720p clips."""

    decode_720p_ms: float
    model_ms: float  # preprocess + infer + postprocess per analysed frame
    cold_start_s: float  # imports + model load (the container's init adds to it)


@dataclass(frozen=True)
class Scenario:
    video_s: float
    fps: float = 30.0
    stride: int = 2
    chunk_frames: int = 300
    memory_mb: int = 1769
    express_children: bool = True
    container_init_s: float = 1.5  # image-based Lambda init beyond our own imports (published range 1–3 s)
    cold: bool = True


@dataclass(frozen=True)
class Estimate:
    chunks: int
    chunk_s: float
    latency_s: float
    cost_usd: float

    def per_minute(self, video_s: float) -> float:
        return self.cost_usd / (video_s / 60)


def estimate(scenario: Scenario, cost: FrameCost) -> Estimate:
    frames = math.ceil(scenario.video_s * scenario.fps)
    chunks = math.ceil(frames / scenario.chunk_frames)
    waves = math.ceil(chunks / MAX_CONCURRENCY)
    vcpu = min(scenario.memory_mb / LAMBDA_MB_PER_VCPU, LAMBDA_MAX_VCPU)
    slowdown = 1 / min(vcpu, 1.0)  # one decode thread + one inference thread; below 1 vCPU both slow down
    decode_ms = cost.decode_720p_ms * PIXELS_1080P_OVER_720P
    decoded = scenario.chunk_frames + GOP_FRAMES / 2
    work_ms = decoded * decode_ms + scenario.chunk_frames / scenario.stride * cost.model_ms
    overlap = 2.0 if vcpu >= 2 else 1.0  # decode and inference pipelined on two cores
    chunk_s = work_ms / 1000 * slowdown / overlap + CHUNK_S3_OVERHEAD_S
    start_s = (cost.cold_start_s + scenario.container_init_s) if scenario.cold else 0.0
    aggregate_s = (AGGREGATE_BASE_S + frames / scenario.stride * AGGREGATE_MS_PER_FRAME / 1000) * slowdown
    latency = S3_EVENT_TO_VALIDATION_S + VALIDATION_S + MAP_START_S + start_s + waves * chunk_s + aggregate_s
    gb = scenario.memory_mb / 1024
    lambda_s = chunks * chunk_s + min(chunks, MAX_CONCURRENCY) * start_s + VALIDATION_S + aggregate_s
    compute = lambda_s * gb * LAMBDA_GB_SECOND_USD + (chunks + 2) * LAMBDA_REQUEST_USD
    if scenario.express_children:
        orchestration = PARENT_TRANSITIONS * SFN_STANDARD_TRANSITION_USD + chunks * (
            SFN_EXPRESS_REQUEST_USD + chunk_s * 64 / 1024 * SFN_EXPRESS_GB_SECOND_USD
        )
    else:
        orchestration = (PARENT_TRANSITIONS + chunks * STANDARD_TRANSITIONS_PER_CHILD) * SFN_STANDARD_TRANSITION_USD
    storage = (chunks + 3) * S3_PUT_USD + (chunks * 2 + 3) * S3_GET_USD
    delivery = EXPORT_FREE_MESSAGES * (EVENTBRIDGE_EVENT_USD + WEBSOCKET_MESSAGE_USD)
    return Estimate(chunks, chunk_s, latency, compute + orchestration + storage + delivery)


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

    model_ms = mean("preprocess") + mean("infer") + mean("postprocess")
    cold = sum(r["cold_start_s"] for r in rows) / len(rows)
    return FrameCost(decode_720p_ms=mean("decode"), model_ms=model_ms, cold_start_s=cold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bench", type=Path, default=Path("docs/bench.json"))
    parser.add_argument("--model", default="movenet_lightning")
    parser.add_argument("--stride", type=int, default=2)
    args = parser.parse_args()
    cost = frame_cost_from_bench(args.bench, args.model)
    print(
        f"per-frame cost at 1 vCPU ({args.model}): decode 720p {cost.decode_720p_ms:.2f} ms "
        f"(1080p ×{PIXELS_1080P_OVER_720P:.2f}), model {cost.model_ms:.2f} ms, cold start {cost.cold_start_s:.2f} s"
    )
    print(
        f"{'video':>6} {'chunk':>6} {'MB':>5} {'children':>8} {'chunks':>6} {'chunk s':>7} "
        f"{'cold p50 s':>10} {'warm s':>6} {'$/video-min':>11}"
    )
    for video_s in VIDEO_LENGTHS_S:
        for chunk_frames in CHUNK_CHOICES:
            for memory in MEMORY_CHOICES:
                for express in (True, False):
                    scenario = Scenario(
                        video_s,
                        stride=args.stride,
                        chunk_frames=chunk_frames,
                        memory_mb=memory,
                        express_children=express,
                    )
                    cold = estimate(scenario, cost)
                    warm = estimate(replace(scenario, cold=False), cost)
                    print(
                        f"{video_s:>6.0f} {chunk_frames:>6} {memory:>5} {'express' if express else 'standard':>8} "
                        f"{cold.chunks:>6} {cold.chunk_s:>7.2f} {cold.latency_s:>10.2f} {warm.latency_s:>6.2f} "
                        f"{cold.per_minute(video_s):>11.5f}"
                    )
    chunk_frames, memory, verdict = pick_defaults(cost, args.stride)
    print(
        f"template defaults: ChunkFrames={chunk_frames}, InferenceMemorySize={memory}, MapExecutionType=EXPRESS "
        f"({verdict})"
    )


def pick_defaults(cost: FrameCost, stride: int) -> tuple[int, int, str]:
    """One (chunk size, memory) for every video: the cheapest that meets both cold-start latency targets;
    failing that, the one with the smallest worst latency overrun. The verdict says which targets hold."""
    options = []
    for chunk_frames in CHUNK_CHOICES:
        for memory in MEMORY_CHOICES:
            runs = {
                video_s: estimate(Scenario(video_s, stride=stride, chunk_frames=chunk_frames, memory_mb=memory), cost)
                for video_s in VIDEO_LENGTHS_S
            }
            overrun = max(runs[v].latency_s - LATENCY_TARGET_S[v] for v in VIDEO_LENGTHS_S)
            price = max(runs[v].per_minute(v) for v in VIDEO_LENGTHS_S)
            options.append((max(overrun, 0.0), price, chunk_frames, memory, runs))
    overrun, price, chunk_frames, memory, runs = min(options, key=lambda option: option[:2])
    verdict = ", ".join(
        f"{v:.0f} s video: {runs[v].latency_s:.2f} s cold (target {LATENCY_TARGET_S[v]:.0f}), "
        f"${runs[v].per_minute(v):.5f}/video-minute (target {COST_TARGET_PER_MINUTE_USD})"
        for v in VIDEO_LENGTHS_S
    )
    return chunk_frames, memory, verdict


if __name__ == "__main__":
    main()
