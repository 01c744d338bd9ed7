"""PoseTracker's jump messages (contract §3.17) for one analysed clip, in video-time order.

`jump_analysis`: `jump_calibration` once the standing person gave the pixel scale, then per jump `jump_started`
(take-off), `jump_height` while measuring (top of the flight) and once landed (`final`), `jump_result`; per
attempt that could not be measured `jump_discarded`. `air_time_jump` sends the same without the calibration. At the
end, the upload's closing `counter` (`final`, counting the jumps; no grade: jumps are not graded) and
`jump_summary`.
"""

from __future__ import annotations

from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    JumpCalibrationMessage,
    JumpDiscardedMessage,
    JumpEntry,
    JumpHeightMessage,
    JumpResultMessage,
    JumpStartedMessage,
    JumpSummaryMessage,
    VisibleHips,
)
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.jumps import Calibration, Jump, JumpAnalysis, analyze_jumps
from uptrack.pose.series import PoseSeries


def jump_messages(series: PoseSeries, request: AnalysisRequest) -> list[BaseMessage]:
    """Every jump message for a full-frame-rate, unsmoothed series."""
    exercise = request.exercise or "air_time_jump"
    return messages_for_jumps(analyze_jumps(series, exercise, request.user_height_cm), request)


def messages_for_jumps(analysis: JumpAnalysis, request: AnalysisRequest) -> list[BaseMessage]:
    """Messages for an existing analysis: the timeline sorted by video time, then the closing pair."""
    timeline: list[BaseMessage] = []
    calibration = analysis.calibration
    if calibration is not None:
        timeline.append(_calibration(calibration, request.device_pitch_deg))
    for number, jump in enumerate(analysis.jumps, start=1):
        timeline += _jump(number, jump, calibration)
    timeline += [
        JumpDiscardedMessage(reason=d.reason, user_message=d.user_message, timestamp_ms=d.timestamp_ms)
        for d in analysis.discarded
    ]
    timeline.sort(key=lambda m: m.timestamp_ms or 0)
    end = analysis.duration_ms
    return [
        *timeline,
        CounterMessage(current_count=len(analysis.jumps), final=True, timestamp_ms=end),
        _summary(analysis.jumps, end),
    ]


def _calibration(calibration: Calibration, pitch: float | None) -> JumpCalibrationMessage:
    return JumpCalibrationMessage(
        cm_per_pixel=round(calibration.cm_per_pixel, 4),
        baseline_y=round(calibration.baseline_y, 1),
        visible_hips=VisibleHips(left=calibration.visible_hips[0], right=calibration.visible_hips[1]),
        device_pitch_deg=pitch,
        timestamp_ms=calibration.timestamp_ms,
    )


def _jump(number: int, jump: Jump, calibration: Calibration | None) -> list[BaseMessage]:
    """Take-off, the top of the flight, the landing: what a live client would have seen, at those instants."""
    height = round(jump.height_cm, 1)
    air_ms = round(jump.air_time_s * 1000.0)
    air_s = round(jump.air_time_s, 3)
    hips = VisibleHips(left=jump.side_used in ("left", "both"), right=jump.side_used in ("right", "both"))
    measured = {
        "baseline_y": round(jump.baseline_y, 1) if calibration is not None else None,
        "min_y": round(jump.min_y, 1) if calibration is not None else None,
        "delta_pixels": round(jump.baseline_y - jump.min_y, 1) if calibration is not None else None,
        "side_used": jump.side_used,
        "visible_hips": hips,
    }
    return [
        JumpStartedMessage(timestamp_ms=jump.takeoff_ms),
        JumpHeightMessage(jump_height_cm=height, measuring=True, landed=False, timestamp_ms=jump.apex_ms),
        JumpHeightMessage(
            jump_height_cm=height,
            measuring=False,
            landed=True,
            final=True,
            air_time_ms=air_ms,
            air_time_seconds=air_s,
            timestamp_ms=jump.landing_ms,
            **measured,
        ),
        JumpResultMessage(
            jump_number=number,
            jump_height_cm=height,
            air_time_ms=air_ms,
            air_time_seconds=air_s,
            takeoff_ms=jump.takeoff_ms,
            landing_ms=jump.landing_ms,
            timestamp_ms=jump.landing_ms,
        ),
    ]


def _summary(jumps: tuple[Jump, ...], end_ms: int) -> JumpSummaryMessage:
    heights = [round(j.height_cm, 1) for j in jumps]
    entries = [
        JumpEntry(
            jump_number=n,
            jump_height_cm=h,
            air_time_ms=round(j.air_time_s * 1000.0),
            air_time_seconds=round(j.air_time_s, 3),
        )
        for n, (j, h) in enumerate(zip(jumps, heights, strict=True), start=1)
    ]
    return JumpSummaryMessage(
        total_jumps=len(jumps),
        avg_jump_height=round(sum(heights) / len(heights), 1) if heights else 0.0,
        max_jump_height=max(heights, default=0.0),
        min_jump_height=min(heights, default=0.0),
        avg_air_time_seconds=round(sum(j.air_time_s for j in jumps) / len(jumps), 3) if jumps else None,
        jumps=entries,
        timestamp_ms=end_ms,
    )
