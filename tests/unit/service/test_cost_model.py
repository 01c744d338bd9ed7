"""The latency/cost model's own arithmetic: what each design lever changes, and in which direction."""

from __future__ import annotations

import pytest
from uptrack_service.tools.cost_model import (
    DISTRIBUTED_MAP_S,
    INLINE_MAP_MAX_CONCURRENCY,
    ColdStart,
    Design,
    FrameCost,
    estimate,
    provisioned_usd_per_month,
)

COST = FrameCost(decode_720p_ms=2.0, model_ms=7.8)
COLD = ColdStart(validate={"p50": 1.0, "p95": 1.2}, infer={"p50": 1.0, "p95": 1.2}, aggregate={"p50": 1.0, "p95": 1.2})


def test_the_map_waits_for_the_slowest_of_more_cold_starts() -> None:
    assert COLD.slowest_of(1, "p50") == pytest.approx(COLD.of("infer", "p50"))
    assert COLD.slowest_of(1, "p95") == pytest.approx(COLD.of("infer", "p95"))
    assert COLD.of("infer", "p50") < COLD.slowest_of(20, "p50") < COLD.slowest_of(200, "p50")


def test_warm_functions_remove_every_cold_start_and_its_billed_init() -> None:
    cold, warm = (estimate(Design(warm=w), 60.0, COST, COLD) for w in (False, True))
    starts = COLD.of("validate", "p50") + COLD.of("aggregate", "p50") + COLD.slowest_of(cold.chunks, "p50")
    assert cold.latency_s["p50"] - warm.latency_s["p50"] == pytest.approx(starts)
    assert warm.cost_usd < cold.cost_usd


def test_a_distributed_map_pays_its_overhead_and_an_inline_map_its_transitions_and_waves() -> None:
    distributed = estimate(Design(chunk_frames=120, map_mode="distributed", warm=True), 600.0, COST, COLD)
    inline = estimate(Design(chunk_frames=120, map_mode="inline", warm=True), 600.0, COST, COLD)
    assert distributed.latency_s["p50"] > DISTRIBUTED_MAP_S["p50"]
    waves = -(-inline.chunks // INLINE_MAP_MAX_CONCURRENCY)
    assert inline.chunks == 150 and waves == 4 and inline.latency_s["p50"] > waves * inline.chunk_s
    # one Standard transition per chunk instead of one Express child request (and its 64 MB GB-seconds)
    assert inline.cost_usd - distributed.cost_usd == pytest.approx(inline.chunks * (0.025 - 0.001) / 1000, rel=0.1)


def test_p95_is_never_below_p50() -> None:
    for design in (Design(), Design(map_mode="inline"), Design(chunk_frames=600, warm=True)):
        run = estimate(design, 60.0, COST, COLD)
        assert run.latency_s["p95"] >= run.latency_s["p50"]


def test_provisioned_concurrency_is_priced_per_environment_and_gigabyte() -> None:
    assert provisioned_usd_per_month(1, 1024) == pytest.approx(10.80, abs=0.01)
    assert provisioned_usd_per_month(2, 2048) == pytest.approx(4 * provisioned_usd_per_month(1, 1024))
