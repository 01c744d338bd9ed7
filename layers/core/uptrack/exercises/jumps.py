"""Jumps (`jump_analysis`, `air_time_jump`): take-off and landing from the feet, air time, and the jump's height.

Read at the clip's full frame rate, unsmoothed (a smoothing filter delays exactly the instants measured here):

* the feet: per frame the *lower* ankle's image height, so only both feet in the air look airborne (a step or a
  knee lift never does); lengths are in shin lengths of this person on this clip;
* an attempt: the feet more than `JUMP_MIN_RISE` above the ground around it (ground = median feet height just
  before and just after, so a jump that lands a step away from where it took off is measured against each side);
* take-off and landing: the instants the feet cross `TOE_OFF_RISE` above that ground, interpolated between frames.
  When the toes leave (or touch) the ground the heel is up about 8 cm; the ankle joint, three quarters of the way
  from the toes' pivot to the heel, is up about 6 cm, 0.15 of a 40 cm shin. The ankle moves fast there, so the
  interpolated instants are finer than a frame;
* `air_time_jump`: height h = g·t²/8 from the air time t (a ballistic flight rises for t/2 and falls for t/2);
* `jump_analysis`: the hips' rise from take-off to the top of the flight (a parabola fitted to the hips in the
  air), in centimetres through the person's standing height: cmPerPixel = userHeightCm / standing pixel height,
  the standing height being the nose-to-ankle span over `NOSE_TO_ANKLE_SHARE` (anthropometric tables). A phone
  pitched by `devicePitchDeg` foreshortens every vertical length by cos(pitch), the calibration span and the rise
  alike, so the calibration already corrects for the tilt; the pitch is reported with it (`docs/contract.md`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.exercises.clip import to_ms
from uptrack.pose.body import MIN_SCORE
from uptrack.pose.keypoints import COCO_INDEX
from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float64]

GRAVITY: Final = 9.80665
"""Standard gravity, m/s²."""

TOE_OFF_RISE: Final = 0.15
"""Ankle height on the toes above its flat-foot height, in shin lengths: the take-off and landing level."""

JUMP_MIN_RISE: Final = 0.4
"""Both feet at least this far (shin lengths, about 15 cm) off the ground: a jump attempt, not a heel raise."""

GROUND_WINDOW_S: Final = (0.1, 0.5)
"""Ground is the median feet height this long before the feet leave it (and after they are back on it)."""

AIR_TIME_S: Final = (0.12, 1.1)
"""Plausible flight times: below, a bounce the camera cannot time; above, higher than any standing jump (1.5 m)."""

NOSE_TO_ANKLE_SHARE: Final = 0.88
"""Nose-to-ankle span as a share of standing height (nose at about 92 % of stature, ankle joint at about 4 %)."""


@dataclass(frozen=True)
class Calibration:
    """Pixel scale of the standing person (`jump_analysis`)."""

    cm_per_pixel: float
    baseline_y: float
    """Standing hip height in the image, pixels."""
    visible_hips: tuple[bool, bool]
    timestamp_ms: int


@dataclass(frozen=True)
class Jump:
    """One measured jump: take-off and landing instants, air time, and height (cm) by the exercise's method."""

    takeoff_ms: int
    apex_ms: int
    landing_ms: int
    air_time_s: float
    height_cm: float
    baseline_y: float
    """Hip height at take-off, pixels."""
    min_y: float
    """Hip height at the top of the flight, pixels."""
    side_used: str


@dataclass(frozen=True)
class Discarded:
    """An attempt that is not a measurable jump, and why."""

    timestamp_ms: int
    reason: str
    user_message: str


@dataclass(frozen=True)
class JumpAnalysis:
    """Every attempt of a clip, in order."""

    exercise: str
    calibration: Calibration | None
    jumps: tuple[Jump, ...]
    discarded: tuple[Discarded, ...]
    duration_ms: int


@dataclass(frozen=True)
class _Track:
    """Per-frame image heights (pixels) of what the analysis reads."""

    times_s: Floats
    feet_y: Floats
    """The lower ankle; NaN unless both ankles were seen."""
    hips_y: Floats
    hip_seen: tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]
    nose_y: Floats
    shin_px: float


def analyze_jumps(series: PoseSeries, exercise: str, user_height_cm: float | None) -> JumpAnalysis:
    """Find and measure every jump of a full-frame-rate, unsmoothed series."""
    track = _track(series)
    duration = to_ms(track.times_s[-1]) if len(track.times_s) else 0
    if not (np.isfinite(track.shin_px) and track.shin_px > 0 and np.any(np.isfinite(track.feet_y))):
        return JumpAnalysis(exercise, None, (), (), duration)  # never a full pair of legs: nothing to time
    calibration = None
    if exercise == "jump_analysis" and user_height_cm is not None:
        calibration = _calibrate(track, user_height_cm)
    rise = (np.nanmedian(track.feet_y) - track.feet_y) / track.shin_px
    jumps: list[Jump] = []
    discarded: list[Discarded] = []
    landed_s = -np.inf
    for start, end in _runs(rise > JUMP_MIN_RISE):
        if track.times_s[start] <= landed_s:
            continue  # the feet dipped but never came down: still the same flight
        outcome = _measure(track, start, end, exercise, calibration)
        if isinstance(outcome, Jump):
            jumps.append(outcome)
            landed_s = outcome.landing_ms / 1000.0
        else:
            discarded.append(outcome)
    return JumpAnalysis(exercise, calibration, tuple(jumps), tuple(discarded), duration)


def air_time_height_cm(air_time_s: float) -> float:
    """Height of a ballistic flight lasting `air_time_s`: h = g·t²/8, in cm."""
    return 100.0 * GRAVITY * air_time_s**2 / 8.0


def _track(series: PoseSeries) -> _Track:
    coco = series.coco.astype(np.float64)
    scores = np.nan_to_num(coco[..., 2], nan=0.0)
    xy = coco[..., :2] * np.array([series.width, series.height], dtype=np.float64)
    xy[scores < MIN_SCORE] = np.nan

    def y(name: str) -> Floats:
        return xy[:, COCO_INDEX[name], 1]

    shins = np.concatenate(
        [
            np.linalg.norm(xy[:, COCO_INDEX[f"{s}_knee"]] - xy[:, COCO_INDEX[f"{s}_ankle"]], axis=-1)
            for s in ("left", "right")
        ]
    )
    shins = shins[np.isfinite(shins)]
    seen = (np.isfinite(y("left_hip")), np.isfinite(y("right_hip")))
    with np.errstate(invalid="ignore"):
        hips = np.where(seen[0] & seen[1], (y("left_hip") + y("right_hip")) / 2, np.fmax(y("left_hip"), y("right_hip")))
    return _Track(
        times_s=series.timestamp_ms.astype(np.float64) / 1000.0,
        feet_y=np.maximum(y("left_ankle"), y("right_ankle")),
        hips_y=hips,
        hip_seen=seen,
        nose_y=y("nose"),
        shin_px=float(np.percentile(shins, 90)) if len(shins) >= 5 else float("nan"),
    )


def _runs(flags: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """(first, last) frame index of every run of True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist(), strict=True))


def _calibrate(track: _Track, user_height_cm: float) -> Calibration | None:
    """Standing frames (feet on the ground, nose seen): their tallest nose-to-ankle span (the 90th percentile, as a
    countermovement or a stoop only shortens it) gives the pixel scale."""
    rise = (np.nanmedian(track.feet_y) - track.feet_y) / track.shin_px
    span = track.feet_y - track.nose_y
    standing = np.isfinite(span) & (np.abs(rise) < TOE_OFF_RISE) & np.isfinite(track.hips_y)
    if np.count_nonzero(standing) < 5:
        return None
    height_px = float(np.percentile(span[standing], 90)) / NOSE_TO_ANKLE_SHARE
    first = int(np.flatnonzero(standing)[0])
    return Calibration(
        cm_per_pixel=user_height_cm / height_px,
        baseline_y=float(np.median(track.hips_y[standing])),
        visible_hips=(bool(np.any(track.hip_seen[0][standing])), bool(np.any(track.hip_seen[1][standing]))),
        timestamp_ms=to_ms(track.times_s[first]),
    )


def _ground(track: _Track, edge: int, direction: int) -> float:
    """Median feet height in `GROUND_WINDOW_S` before (direction −1) or after (+1) frame `edge`."""
    offset = (track.times_s - track.times_s[edge]) * direction
    window = (offset >= GROUND_WINDOW_S[0]) & (offset <= GROUND_WINDOW_S[1]) & np.isfinite(track.feet_y)
    return float(np.median(track.feet_y[window])) if np.any(window) else float("nan")


def _crossing(track: _Track, level: float, apex: int, direction: int) -> float | None:
    """Time the feet cross `level` going away from the apex (−1: take-off before it, +1: landing after it),
    interpolated between the last frame above the level and the first at or below it (a frame whose feet were
    not seen is stepped over); None when the clip ends first."""
    last = apex
    for i in range(apex + direction, len(track.feet_y) if direction > 0 else -1, direction):
        height = track.feet_y[i]
        if not np.isfinite(height):
            continue
        if height >= level:
            share = (level - track.feet_y[last]) / (height - track.feet_y[last])
            t0, t1 = track.times_s[last], track.times_s[i]
            return float(t0 + share * (t1 - t0))
        last = i
    return None


def _measure(track: _Track, start: int, end: int, exercise: str, calibration: Calibration | None) -> Jump | Discarded:
    """Take-off, landing and height of the attempt whose feet were high from frame `start` to `end`."""
    apex = start + int(np.nanargmin(track.feet_y[start : end + 1]))
    before, after = _ground(track, start, -1), _ground(track, end, +1)
    stamp = to_ms(track.times_s[apex])
    if not (np.isfinite(before) and np.isfinite(after)):
        return Discarded(stamp, "feet_not_visible", "Keep both feet in the frame before, during and after the jump.")
    takeoff = _crossing(track, before - TOE_OFF_RISE * track.shin_px, apex, -1)
    landing = _crossing(track, after - TOE_OFF_RISE * track.shin_px, apex, +1)
    if takeoff is None or landing is None:
        return Discarded(stamp, "feet_not_visible", "Keep both feet in the frame before, during and after the jump.")
    air_time = landing - takeoff
    if not AIR_TIME_S[0] <= air_time <= AIR_TIME_S[1]:
        return Discarded(stamp, "implausible_air_time", "That did not look like a jump: jump straight up, once.")
    top_s, hip_top, hip_takeoff = _hip_flight(track, takeoff, landing)
    if exercise == "jump_analysis":
        if calibration is None:
            return Discarded(stamp, "not_calibrated", "Stand still with your whole body in the frame, then jump.")
        if not np.isfinite(hip_top):
            return Discarded(stamp, "hips_not_visible", "Keep your hips in the frame while you jump.")
        height = (hip_takeoff - hip_top) * calibration.cm_per_pixel
    else:
        height = air_time_height_cm(air_time)
    return Jump(
        takeoff_ms=to_ms(takeoff),
        apex_ms=to_ms(top_s),
        landing_ms=to_ms(landing),
        air_time_s=air_time,
        height_cm=max(height, 0.0),
        baseline_y=hip_takeoff,
        min_y=hip_top,
        side_used=_side_used(track, takeoff, landing),
    )


def _hip_flight(track: _Track, takeoff_s: float, landing_s: float) -> tuple[float, float, float]:
    """(apex time, apex hip height, hip height at take-off): a parabola fitted to the hips in the air, whose
    curvature is free (the pixel scale is unknown here) but whose shape is a ballistic flight's."""
    air = (track.times_s > takeoff_s) & (track.times_s < landing_s) & np.isfinite(track.hips_y)
    if np.count_nonzero(air) < 3:
        return (takeoff_s + landing_s) / 2, float("nan"), float("nan")
    a, b, c = np.polyfit(track.times_s[air], track.hips_y[air], 2)
    top = float(np.clip(-b / (2 * a), takeoff_s, landing_s)) if a > 0 else (takeoff_s + landing_s) / 2
    return top, float(np.polyval((a, b, c), top)), float(np.polyval((a, b, c), takeoff_s))


def _side_used(track: _Track, takeoff_s: float, landing_s: float) -> str:
    air = (track.times_s >= takeoff_s) & (track.times_s <= landing_s)
    left, right = bool(np.all(track.hip_seen[0][air])), bool(np.all(track.hip_seen[1][air]))
    return "both" if left and right else "left" if left else "right" if right else "none"
