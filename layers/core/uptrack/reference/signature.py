"""A reference movement: the signature of one clean repetition, the document stored per owner, and its creation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Final

import numpy as np
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.pose.body import Floats
from uptrack.pose.series import PoseSeries
from uptrack.reference.features import FEATURE_NAMES, SIGNATURE_HZ, movement_features
from uptrack.reference.store import REFERENCE_ID

SIGNATURE_VERSION: Final = 1
"""Bumped whenever the features change: a stored signature of another version cannot be compared."""

REST_SHARE: Final = 0.12
"""Frames closer to the rest pose than this share of the rep's largest excursion are idle, and trimmed."""

MIN_REFERENCE_S: Final = 0.5
MAX_REFERENCE_S: Final = 20.0


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

    id: Annotated[str, Field(pattern=REFERENCE_ID.pattern)]
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
