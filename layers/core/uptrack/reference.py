"""Reference movements (contract §5.2): a movement signature made from one clean repetition, stored per owner.

A signature is the rep's motion as per-frame features sampled at a fixed rate. The features are chosen so that
who filmed it and how does not matter:

* position: heights are measured from the hip midpoint, spreads as left-right differences;
* scale: lengths are divided by the torso length (a rolling high percentile, so zooms and walking closer are
  followed, while a forward lean that foreshortens the torso within a rep is not);
* mirror: left and right are merged (confidence-weighted angle means, midpoints, absolute spreads), so a rep
  filmed from the other side or a mirrored selfie gives the same features;
* camera yaw: vertical distances and joint angles dominate, and vertical distances survive a change from a side
  to a front view.

Stores sit behind the `ReferenceStore` protocol: `LocalReferenceStore` keeps one JSON file per id for the CLI;
a cloud store can keep the same documents in S3. A reference owned by another token reads as not found, exactly
like an unknown id, so ids cannot be probed.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Final, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from uptrack.angles import joint_angle
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.pose.keypoints import COCO_INDEX
from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float64]

SIGNATURE_VERSION: Final = 1
"""Bumped whenever the features change: a stored signature of another version cannot be compared."""

SIGNATURE_HZ: Final = 15.0
"""Feature rate: fast enough for a 0.6 s jumping jack, slow enough to keep DTW over long videos cheap."""

MIN_SCORE: Final = 0.3
"""Keypoints below this confidence are treated as not seen."""

SCALE_WINDOW_S: Final = 1.5
"""Half-width of the rolling window in which the torso length (the unit of every distance) is measured."""

SCALE_PERCENTILE: Final = 90.0
"""Foreshortening only ever shortens the torso, so a high percentile reads its true length."""

REST_SHARE: Final = 0.12
"""Frames closer to the rest pose than this share of the rep's largest excursion are idle, and trimmed."""

MIN_REFERENCE_S: Final = 0.5
MAX_REFERENCE_S: Final = 20.0

_ANGLES: Final = (
    ("knee", "hip", "knee", "ankle"),
    ("hip", "knee", "hip", "shoulder"),
    ("elbow", "shoulder", "elbow", "wrist"),
    ("shoulder", "hip", "shoulder", "elbow"),
)
_HEIGHTS: Final = ("nose", "shoulder", "elbow", "wrist", "knee", "ankle")
_SPREADS: Final = ("wrist", "ankle")

FEATURE_NAMES: Final[tuple[str, ...]] = (
    *(f"{name}_angle" for name, *_ in _ANGLES),
    *(f"{name}_height" for name in _HEIGHTS),
    *(f"{name}_spread" for name in _SPREADS),
)
"""Signature channels: joint angles (fraction of 180°), heights above the hips and spreads (torso lengths)."""

_ID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class FeatureTrack:
    """Movement features of a clip on a regular time grid."""

    times_ms: Floats  # (T,)
    values: Floats  # (T, len(FEATURE_NAMES))

    def __len__(self) -> int:
        return int(self.times_ms.shape[0])

    def between(self, start_ms: float, end_ms: float) -> FeatureTrack:
        keep = (self.times_ms >= start_ms) & (self.times_ms <= end_ms)
        return FeatureTrack(self.times_ms[keep], self.values[keep])


def _pixels(series: PoseSeries) -> tuple[Floats, Floats]:
    """(N, 17, 2) pixel keypoints with unseen points blanked, and their (N, 17) scores."""
    coco = series.coco.astype(np.float64)
    scores = np.nan_to_num(coco[..., 2], nan=0.0)
    points = coco[..., :2] * np.array([series.width, series.height], dtype=np.float64)
    points[scores < MIN_SCORE] = np.nan
    return points, scores


def _midpoint(points: Floats, joint: str) -> Floats:
    """Mean of both sides where both are seen, else the one seen: a mirror-free position of `joint`."""
    both = np.stack([points[:, COCO_INDEX[f"left_{joint}"]], points[:, COCO_INDEX[f"right_{joint}"]]])
    seen = np.isfinite(both).all(axis=-1, keepdims=True)
    total = np.where(seen, both, 0.0).sum(axis=0)
    count = seen.sum(axis=0)
    result: Floats = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return result


def _merged_angle(points: Floats, scores: Floats, first: str, vertex: str, last: str) -> Floats:
    """Confidence-weighted mean of the left and right angle, as a fraction of 180° (the far side counts less)."""
    values, weights = [], []
    for side in ("left", "right"):
        idx = [COCO_INDEX[f"{side}_{joint}"] for joint in (first, vertex, last)]
        corners = [points[:, i].astype(np.float32) for i in idx]
        angle = joint_angle(*corners).astype(np.float64)
        weight = np.where(np.isfinite(angle), scores[:, idx].min(axis=1), 0.0)
        values.append(np.nan_to_num(angle))
        weights.append(weight)
    total = np.sum(weights, axis=0)
    merged: Floats = np.where(total > 0, np.sum(np.multiply(values, weights), axis=0) / np.maximum(total, 1e-9), np.nan)
    return merged / 180.0


def _rolling_percentile(values: Floats, times_ms: Floats) -> Floats:
    """Torso length per frame as the high percentile of the lengths seen within ±SCALE_WINDOW_S."""
    result = np.full(values.shape, np.nan)
    half = SCALE_WINDOW_S * 1000.0
    lows = np.searchsorted(times_ms, times_ms - half, side="left")
    highs = np.searchsorted(times_ms, times_ms + half, side="right")
    for i, (low, high) in enumerate(zip(lows, highs, strict=True)):
        window = values[low:high]
        window = window[np.isfinite(window)]
        if len(window) >= 3:
            result[i] = np.percentile(window, SCALE_PERCENTILE)
    return result


def _raw_features(series: PoseSeries) -> Floats:
    """(N, K) features per analysed frame, NaN where their keypoints were not seen."""
    points, scores = _pixels(series)
    hips = _midpoint(points, "hip")
    torso = np.linalg.norm(_midpoint(points, "shoulder") - hips, axis=1)
    unit = _rolling_percentile(torso, series.timestamp_ms.astype(np.float64))
    unit = np.where(unit > 1.0, unit, np.nan)
    columns = [_merged_angle(points, scores, *joints) for _, *joints in _ANGLES]
    nose = points[:, COCO_INDEX["nose"]]
    for name in _HEIGHTS:
        position = nose if name == "nose" else _midpoint(points, name)
        columns.append((hips[:, 1] - position[:, 1]) / unit)
    for name in _SPREADS:
        left, right = points[:, COCO_INDEX[f"left_{name}"], 0], points[:, COCO_INDEX[f"right_{name}"], 0]
        columns.append(np.abs(left - right) / unit)
    return np.stack(columns, axis=1)


def movement_features(series: PoseSeries, hz: float = SIGNATURE_HZ) -> FeatureTrack:
    """Mirror-, position- and scale-invariant features of a (smoothed) series, resampled to `hz`.

    Gaps where a keypoint was not seen are interpolated; a channel never seen is constant zero, which the
    signature then ignores because it does not move.
    """
    if len(series) == 0:
        return FeatureTrack(np.zeros(0), np.zeros((0, len(FEATURE_NAMES))))
    times = series.timestamp_ms.astype(np.float64)
    grid = np.arange(times[0], times[-1] + 1e-6, 1000.0 / hz)
    raw = _raw_features(series)
    values = np.zeros((len(grid), raw.shape[1]))
    for k in range(raw.shape[1]):
        seen = np.isfinite(raw[:, k])
        if seen.sum() >= 2:
            values[:, k] = np.interp(grid, times[seen], raw[seen, k])
    return FeatureTrack(grid, values)


@dataclass(frozen=True)
class Signature:
    """One repetition's features, and how much each channel matters when comparing against it."""

    frames: Floats  # (L, K)
    hz: float = SIGNATURE_HZ

    @property
    def duration_ms(self) -> float:
        return 1000.0 * (len(self.frames) - 1) / self.hz

    @property
    def weights(self) -> Floats:
        """Channel weights, summing to 1: proportional to the variance each channel shows during the rep.

        A channel the reference does not move (arms of a squat, say) tells nothing about the movement, so it
        barely counts; the ones that carry the motion decide.
        """
        variance = self.frames.var(axis=0)
        total = float(variance.sum())
        result: Floats = variance / total if total > 0 else np.full(variance.shape, 1.0 / len(variance))
        return result

    @property
    def scale(self) -> Floats:
        """Per-channel factors under which the reference's weighted range of motion is 1.

        Distances between scaled frames then read as "share of the reference's own movement", which is what
        the score thresholds are expressed in.
        """
        weights = self.weights
        span = self.frames.max(axis=0) - self.frames.min(axis=0)
        amplitude = float(np.sqrt((weights * span**2).sum()))
        result: Floats = np.sqrt(weights) / max(amplitude, 1e-9)
        return result


def active_span(values: Floats, scale: Floats) -> tuple[int, int]:
    """[first, last] indices of the movement: idle frames near the rest pose at either end are dropped.

    The rest pose is the mean of the clip's first and last tenth, so a rep cut generously keeps only its motion
    (plus one frame of margin) and the timing score compares movement with movement.
    """
    edge = max(1, len(values) // 10)
    rest = (values[:edge].mean(axis=0) + values[-edge:].mean(axis=0)) / 2
    excursion = np.linalg.norm((values - rest) * scale, axis=1)
    active = np.flatnonzero(excursion > REST_SHARE * excursion.max())
    if len(active) == 0:
        return 0, len(values) - 1
    return max(0, int(active[0]) - 1), min(len(values) - 1, int(active[-1]) + 1)


class ReferenceMovement(BaseModel):
    """A stored reference: who owns it, where it came from, and its signature frames."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=_ID_RE.pattern)]
    owner: Annotated[str, Field(min_length=1, max_length=200)]
    name: str = ""
    created_at: AwareDatetime
    version: int = SIGNATURE_VERSION
    model: str
    start_ms: int
    end_ms: int
    hz: float = SIGNATURE_HZ
    features: tuple[str, ...] = FEATURE_NAMES
    frames: list[list[float]]

    def signature(self) -> Signature:
        if self.version != SIGNATURE_VERSION or self.features != FEATURE_NAMES:
            raise UptrackError(
                ErrorCode.REFERENCE_NOT_FOUND,
                "This reference was made by another version of uptrack; create it again.",
                {"reference": self.id},
            )
        return Signature(np.asarray(self.frames, dtype=np.float64), self.hz)

    @property
    def duration_ms(self) -> int:
        return round(1000.0 * (len(self.frames) - 1) / self.hz)


def create_reference(
    series: PoseSeries,
    owner: str,
    start_ms: float | None = None,
    end_ms: float | None = None,
    name: str = "",
) -> ReferenceMovement:
    """Build a reference from a smoothed series of one clean repetition (optionally cut to [start, end]).

    Idle frames at either end are trimmed, so a loosely cut clip gives the same signature as a tight one.
    """
    track = movement_features(series)
    if len(track) == 0:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "No frame of the clip could be analysed.", {})
    first, last = float(track.times_ms[0]), float(track.times_ms[-1])
    low = first if start_ms is None else float(start_ms)
    high = last if end_ms is None else float(end_ms)
    if not first <= low < high <= last + 1000.0 / SIGNATURE_HZ:
        raise UptrackError(
            ErrorCode.INVALID_PARAMS,
            f"start/end must lie within the clip (0-{last / 1000:.2f} s) with start before end.",
            {"start_ms": low, "end_ms": high},
        )
    cut = track.between(low, high)
    begin, end = active_span(cut.values, Signature(cut.values).scale)
    frames = cut.values[begin : end + 1]
    _check_signature(Signature(frames))
    return ReferenceMovement(
        id=str(uuid.uuid4()),
        owner=owner,
        name=name,
        created_at=datetime.now(UTC),
        model=series.model,
        start_ms=round(float(cut.times_ms[begin])),
        end_ms=round(float(cut.times_ms[end])),
        frames=np.round(frames, 4).tolist(),
    )


def _check_signature(signature: Signature) -> None:
    """Refuse references a rep could never be matched against: too short, too long, or motionless."""
    seconds = signature.duration_ms / 1000.0
    if not MIN_REFERENCE_S <= seconds <= MAX_REFERENCE_S:
        raise UptrackError(
            ErrorCode.INVALID_PARAMS,
            f"A reference holds one repetition of {MIN_REFERENCE_S:g}-{MAX_REFERENCE_S:g} s; this one moves for "
            f"{seconds:.2f} s.",
            {"duration_s": round(seconds, 2)},
        )
    if float(signature.frames.std(axis=0).max()) < 1e-3:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "No movement was found in the clip.", {})


def not_found(reference_id: str) -> UptrackError:
    """The one error for unknown ids and other owners' ids alike (contract §5.2)."""
    return UptrackError(ErrorCode.REFERENCE_NOT_FOUND, "Reference movement not found.", {"reference": reference_id})


class ReferenceStore(Protocol):
    """Where reference movements live; every read and delete is scoped to an owner."""

    def put(self, movement: ReferenceMovement) -> None: ...

    def get(self, reference_id: str, owner: str) -> ReferenceMovement:
        """The owner's reference; raises the not-found `UptrackError` otherwise."""
        ...

    def list_references(self, owner: str | None = None) -> list[ReferenceMovement]: ...

    def delete(self, reference_id: str, owner: str) -> None:
        """Remove the owner's reference; raises the not-found `UptrackError` otherwise."""
        ...


class LocalReferenceStore:
    """One JSON document per reference in a folder (the CLI's `$UPTRACK_HOME/references`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, reference_id: str) -> Path | None:
        """The file of an id, or None for an id that could not be ours (and must not reach the file system)."""
        return self.folder / f"{reference_id}.json" if _ID_RE.fullmatch(reference_id) else None

    def put(self, movement: ReferenceMovement) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".reference-", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(movement.model_dump_json())
        os.replace(temporary, self.folder / f"{movement.id}.json")

    def get(self, reference_id: str, owner: str) -> ReferenceMovement:
        path = self._path(reference_id)
        if path is None or not path.is_file():
            raise not_found(reference_id)
        movements = _readable([path])
        if not movements or movements[0].owner != owner:
            raise not_found(reference_id)
        return movements[0]

    def list_references(self, owner: str | None = None) -> list[ReferenceMovement]:
        movements = _readable(self.folder.glob("*.json")) if self.folder.is_dir() else []
        mine = [m for m in movements if owner is None or m.owner == owner]
        return sorted(mine, key=lambda m: m.created_at)

    def delete(self, reference_id: str, owner: str) -> None:
        self.get(reference_id, owner)
        path = self._path(reference_id)
        if path is not None:
            path.unlink()


def _readable(paths: Iterable[Path]) -> list[ReferenceMovement]:
    """Stored references, skipping files that are not (a half-copied folder must not break `list`)."""
    movements = []
    for path in paths:
        try:
            movements.append(ReferenceMovement.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return movements
