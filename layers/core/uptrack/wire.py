"""Pose series to the contract's per-frame messages: keypoints and angles as clients receive them.

Values are rounded to what a client can use (5 decimals of a normalised coordinate, 0.1°); `x`, `y` and scores are
clamped to the contract's 0–1 range, and frames without a pose are skipped rather than sent empty.
"""

from __future__ import annotations

import math

import numpy as np

from uptrack.angles import angle_series
from uptrack.contract.messages import (
    AnglesMessage,
    BaseMessage,
    Keypoint,
    KeypointsBatchMessage,
    KeypointsFrame,
    KeypointsMessage,
)
from uptrack.contract.params import AnalysisRequest
from uptrack.pose.series import PoseSeries


def wire_keypoints(names: tuple[str, ...], frame: np.ndarray) -> list[Keypoint] | None:
    """Wire keypoints of one frame, or None when no pose was found in it."""
    if not _has_pose(frame):
        return None
    return [
        Keypoint(
            name=name,
            x=round(_unit(float(x)), 5),
            y=round(_unit(float(y)), 5),
            z=round(float(z), 5) if math.isfinite(z) else None,
            score=round(_unit(float(score)), 4),
        )
        for name, (x, y, z, score) in zip(names, frame.tolist(), strict=True)
    ]


def _has_pose(frame: np.ndarray) -> bool:
    return bool(np.isfinite(frame[:, :2]).all())


def _unit(value: float) -> float:
    """A value clamped to [0, 1]; NaN (no score) is 0. Coordinates are clamped too: the model places a joint cut
    off by the frame edge (a foot below the bottom) just outside it, and PoseTracker's clients read coordinates as
    fractions of the frame, which a value of 1.02 is not; the edge is the nearest point they can draw."""
    return 0.0 if math.isnan(value) else min(max(value, 0.0), 1.0)


def frame_messages(series: PoseSeries, request: AnalysisRequest, pose_only: bool) -> list[BaseMessage]:
    """Per-frame `keypoints` and `angles` as asked. `pose_only` (a video with no exercise and no reference) streams
    keypoints whatever the flag, as PoseTracker's pose-only page does; photos and exercises need `keypoints=true`."""
    want_keypoints = request.keypoints or pose_only
    angles = angle_series(series.coco, series.width, series.height) if request.angles else {}
    if not (want_keypoints or angles):
        return []
    messages: list[BaseMessage] = []
    for i in range(len(series)):
        if not _has_pose(series.keypoints[i]):
            continue
        stamp = int(series.timestamp_ms[i])
        if want_keypoints:
            points = wire_keypoints(series.names, series.keypoints[i]) or []
            messages.append(KeypointsMessage.of(points, frame_id=int(series.frame_index[i]), timestamp_ms=stamp))
        if angles:
            values = {
                angle_id: (round(float(degrees[i]), 1), round(float(score[i]), 3))
                for angle_id, (degrees, score) in angles.items()
                if np.isfinite(degrees[i])
            }
            messages.append(AnglesMessage.of(values, timestamp_ms=stamp))
    return messages


def keypoints_batch(series: PoseSeries) -> KeypointsBatchMessage:
    frames = []
    for i in range(len(series)):
        points = wire_keypoints(series.names, series.keypoints[i])
        if points is not None:
            frames.append(
                KeypointsFrame(
                    timestamp_ms=int(series.timestamp_ms[i]),
                    frame_id=int(series.frame_index[i]),
                    keypoints=points,
                    score=round(float(np.mean([p.score for p in points])), 4),
                )
            )
    return KeypointsBatchMessage(data=frames)
