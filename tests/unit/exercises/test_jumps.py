"""Jumps on a synthetic ballistic jumper: air time within a frame, heights by both methods, discarded attempts,
messages in the contract's order and shapes (validated by the committed JSON Schemas), full-rate sampling."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
from uptrack.contract.messages import dump_message
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.jump_session import jump_messages
from uptrack.exercises.jumps import GRAVITY, TOE_OFF_RISE, air_time_height_cm, analyze_jumps
from uptrack.pipeline import request_stride, video_messages
from uptrack.pose.keypoints import COCO_INDEX

from tests.support.paths import REPO
from tests.unit.exercises.motions import front
from tests.unit.exercises.stick_figures import SHIN, Frame, nobody, series

SCHEMAS = REPO / "docs" / "schemas"
USER_CM = 175.0
STANDING = front()
PX_PER_M = 100.0 * (STANDING[COCO_INDEX["left_ankle"], 1] - STANDING[COCO_INDEX["nose"], 1]) * 1000 / 0.88 / USER_CM
"""Pixels per metre of the figure when it stands for a person of `USER_CM` (nose-to-ankle is 88 % of stature)."""
PUSH_S = 0.1
HEEL_PX = TOE_OFF_RISE * SHIN
"""The figure rises on its toes to exactly the toe-off level before it leaves the ground (the modelled anatomy)."""


def jumper(fps: float, takeoffs: list[float], air_s: float, length_s: float = 4.0) -> list[Frame]:
    """Standing figure; before each take-off it rises on its toes over `PUSH_S`, flies a ballistic arc of `air_s`
    (every keypoint moves with the body) and comes down off its toes over `PUSH_S` after landing."""
    frames = []
    for t in np.arange(0.0, length_s, 1.0 / fps):
        lift = 0.0
        for t0 in takeoffs:
            t1 = t0 + air_s
            if t0 - PUSH_S <= t < t0:
                lift = HEEL_PX * (t - (t0 - PUSH_S)) / PUSH_S
            elif t0 <= t <= t1:
                v0 = GRAVITY * air_s / 2
                lift = HEEL_PX + PX_PER_M * (v0 * (t - t0) - GRAVITY * (t - t0) ** 2 / 2)
            elif t1 < t <= t1 + PUSH_S:
                lift = HEEL_PX * (1 - (t - t1) / PUSH_S)
        frame = STANDING.copy()
        frame[:, 1] -= lift / 1000.0
        frames.append(frame)
    return frames


@pytest.mark.parametrize("fps", [30.0, 59.94, 24.0])
@pytest.mark.parametrize("air_s", [0.35, 0.5, 0.75])
def test_air_time_within_a_frame_and_heights_agree(fps: float, air_s: float) -> None:
    clip = series(jumper(fps, [1.513], air_s), fps=fps)
    timed = analyze_jumps(clip, "air_time_jump", None)
    measured = analyze_jumps(clip, "jump_analysis", USER_CM)
    assert len(timed.jumps) == len(measured.jumps) == 1 and not timed.discarded
    jump = timed.jumps[0]
    assert abs(jump.air_time_s - air_s) < 1.0 / fps
    assert abs(jump.takeoff_ms - 1513) < 1000.0 / fps
    assert jump.height_cm == pytest.approx(air_time_height_cm(jump.air_time_s))
    assert measured.jumps[0].height_cm == pytest.approx(100.0 * GRAVITY * air_s**2 / 8, rel=0.08)
    assert measured.calibration is not None and timed.calibration is None


def test_air_time_height_is_g_t_squared_over_8() -> None:
    assert air_time_height_cm(0.5) == pytest.approx(30.65, abs=0.01)


def test_two_jumps_are_two_and_standing_or_a_step_is_none() -> None:
    assert len(analyze_jumps(series(jumper(30.0, [1.0, 2.6], 0.45)), "air_time_jump", None).jumps) == 2
    assert analyze_jumps(series([STANDING] * 90), "air_time_jump", None).jumps == ()
    step = [STANDING] * 30 + [front(lift=(0.8, 0.0))] * 20 + [STANDING] * 30
    assert analyze_jumps(series(step), "air_time_jump", None).jumps == ()


def test_a_jump_whose_landing_is_not_seen_is_discarded() -> None:
    frames = jumper(30.0, [1.5], 0.5)[:55]
    analysis = analyze_jumps(series(frames), "air_time_jump", None)
    assert analysis.jumps == () and [d.reason for d in analysis.discarded] == ["feet_not_visible"]


def _validate(wire: dict[str, object]) -> None:
    schema = json.loads((SCHEMAS / f"{wire['type']}.json").read_text())
    jsonschema.validate(wire, schema)
    jsonschema.validate(wire, json.loads((SCHEMAS / "message.json").read_text()))


def test_jump_analysis_messages_in_order_and_valid_against_the_schemas() -> None:
    request = AnalysisRequest(exercise="jump_analysis", user_height_cm=USER_CM, device_pitch_deg=5.0)
    wires = [dump_message(m) for m in jump_messages(series(jumper(30.0, [1.2, 2.5], 0.45)), request)]
    for wire in wires:
        _validate(wire)
    per_jump = ["jump_started", "jump_height", "jump_height", "jump_result"]
    types = [w["type"] for w in wires]
    assert types == ["jump_calibration", *per_jump, *per_jump, "counter", "jump_summary"]
    assert wires[0]["devicePitchDeg"] == 5.0 and wires[0]["cmPerPixel"] == pytest.approx(100 / PX_PER_M, rel=0.01)
    final = [w for w in wires if w["type"] == "jump_height" and w.get("final")]
    assert all(w["landed"] and not w["measuring"] and w["deltaPixels"] > 0 for w in final)
    summary = wires[-1]
    assert summary["totalJumps"] == 2 and [j["jumpNumber"] for j in summary["jumps"]] == [1, 2]
    assert summary["minJumpHeight"] <= summary["avgJumpHeight"] <= summary["maxJumpHeight"]
    assert wires[-2] == {"type": "counter", "timestampMs": wires[-2]["timestampMs"], "current_count": 2, "final": True}


def test_air_time_jump_sends_no_calibration_and_no_pixels() -> None:
    request = AnalysisRequest(exercise="air_time_jump", user_height_cm=USER_CM)
    wires = [dump_message(m) for m in jump_messages(series(jumper(30.0, [1.2], 0.45)), request)]
    assert "jump_calibration" not in [w["type"] for w in wires]
    final = next(w for w in wires if w["type"] == "jump_height" and w.get("final"))
    assert "deltaPixels" not in final and final["airTimeMs"] > 0


def test_a_clip_without_jumps_still_closes_with_a_zero_summary() -> None:
    request = AnalysisRequest(exercise="air_time_jump")
    wires = [dump_message(m) for m in jump_messages(series([STANDING] * 60), request)]
    assert [w["type"] for w in wires] == ["counter", "jump_summary"]
    assert wires[-1]["totalJumps"] == 0 and wires[-1]["jumps"] == []
    for wire in wires:
        _validate(wire)


@pytest.mark.parametrize("fps", [24.0, 30.0, 59.94, 120.0])
def test_jumps_are_analysed_at_the_full_frame_rate(fps: float) -> None:
    assert request_stride(AnalysisRequest(exercise="air_time_jump"), fps) == 1
    assert request_stride(AnalysisRequest(exercise="squat"), 60.0) > 1


def test_the_aggregator_times_jumps_on_the_raw_series_and_closes_with_the_summary() -> None:
    clip = series(jumper(30.0, [1.2], 0.5), fps=30.0)
    types = [m.type for m in video_messages(clip, AnalysisRequest(exercise="air_time_jump"))]  # type: ignore[attr-defined]
    assert types[-3:] == ["counter", "jump_summary", "initialization"]
    assert types.count("jump_result") == 1


def test_nobody_in_the_frame_gives_no_jump_and_a_clean_close() -> None:
    request = AnalysisRequest(exercise="jump_analysis", user_height_cm=USER_CM)
    wires = [dump_message(m) for m in jump_messages(series([nobody()] * 30), request)]
    assert [w["type"] for w in wires] == ["counter", "jump_summary"]
