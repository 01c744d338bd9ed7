"""The pose time series of one clip (or one chunk of it): the unit passed from inference to analysis.

Stored as a compact `.npz` so an inference Lambda hands the aggregator an S3 key, never a payload.
Coordinates are normalised to the (display-oriented) frame: x, y in 0..1, z relative to width, NaN
where no pose was found.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from uptrack.pose.keypoints import BLAZEPOSE_KEYPOINTS, BLAZEPOSE_TO_COCO, COCO_KEYPOINTS

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PoseSeries:
    """Keypoints of consecutive analysed frames.

    `keypoints` has shape (N, K, 4): x, y, z, score in the model's own keypoint order (`names`).
    `presence` (N,) is the model's confidence that a person is there at all.
    `cut` (N,) marks the frames where a new camera shot starts (`uptrack.shots`); None when no frame was checked
    (a photo, a series stored before cuts were detected): read it through `cuts`.
    """

    model: str
    names: tuple[str, ...]
    frame_index: IntArray
    timestamp_ms: FloatArray
    keypoints: FloatArray
    presence: FloatArray
    width: int
    height: int
    fps: float
    cut: BoolArray | None = None

    def __len__(self) -> int:
        return int(self.frame_index.shape[0])

    @property
    def cuts(self) -> BoolArray:
        """(N,) True where a new camera shot starts."""
        return self.cut if self.cut is not None else np.zeros(len(self), dtype=bool)

    def shots(self) -> list[slice]:
        """The frames of each camera shot, in order (one slice for an unedited clip)."""
        starts = [0, *(int(i) for i in np.flatnonzero(self.cuts) if i > 0), len(self)]
        return [slice(a, b) for a, b in itertools.pairwise(starts) if b > a] or [slice(0, 0)]

    @property
    def coco(self) -> FloatArray:
        """(N, 17, 3) x, y, score in COCO order, whatever the model: what the analysis reads."""
        if self.names == COCO_KEYPOINTS:
            picked = self.keypoints
        elif self.names == BLAZEPOSE_KEYPOINTS:
            picked = self.keypoints[:, list(BLAZEPOSE_TO_COCO), :]
        else:  # pragma: no cover - every wrapper emits one of the two orders
            raise ValueError(f"unknown keypoint order for model {self.model}")
        return np.ascontiguousarray(picked[:, :, (0, 1, 3)])

    def with_keypoints(self, keypoints: FloatArray) -> PoseSeries:
        """The same frames with new keypoint values (after smoothing, say)."""
        return PoseSeries(
            self.model,
            self.names,
            self.frame_index,
            self.timestamp_ms,
            keypoints.astype(np.float32),
            self.presence,
            self.width,
            self.height,
            self.fps,
            self.cut,
        )

    def since_frame(self, first_frame: int) -> PoseSeries:
        """The frames from `first_frame` on (drops a chunk's tracker warm-up)."""
        return self.select(self.frame_index >= first_frame)

    def select(self, keep: npt.NDArray[np.bool_]) -> PoseSeries:
        """The frames where `keep` is true, in order."""
        return PoseSeries(
            self.model,
            self.names,
            self.frame_index[keep],
            self.timestamp_ms[keep],
            self.keypoints[keep],
            self.presence[keep],
            self.width,
            self.height,
            self.fps,
            self.cuts[keep],
        )

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            model=np.array(self.model),
            names=np.array(self.names),
            frame_index=self.frame_index,
            timestamp_ms=self.timestamp_ms,
            keypoints=self.keypoints,
            presence=self.presence,
            cut=self.cuts,
            meta=np.array([self.width, self.height, self.fps], dtype=np.float64),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PoseSeries:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            width, height, fps = archive["meta"].tolist()
            return cls(
                model=str(archive["model"]),
                names=tuple(str(n) for n in archive["names"]),
                frame_index=archive["frame_index"].astype(np.int64),
                timestamp_ms=archive["timestamp_ms"].astype(np.float32),
                keypoints=archive["keypoints"].astype(np.float32),
                presence=archive["presence"].astype(np.float32),
                width=int(width),
                height=int(height),
                fps=float(fps),
                cut=archive["cut"].astype(bool) if "cut" in archive.files else None,
            )

    @classmethod
    def concat(cls, parts: Sequence[PoseSeries]) -> PoseSeries:
        """Join chunk results in frame order; chunks may arrive in any order."""
        if not parts:
            raise ValueError("no chunks to join")
        ordered = sorted(parts, key=lambda p: int(p.frame_index[0]) if len(p) else -1)
        first = ordered[0]
        return cls(
            model=first.model,
            names=first.names,
            frame_index=np.concatenate([p.frame_index for p in ordered]),
            timestamp_ms=np.concatenate([p.timestamp_ms for p in ordered]),
            keypoints=np.concatenate([p.keypoints for p in ordered]),
            presence=np.concatenate([p.presence for p in ordered]),
            width=first.width,
            height=first.height,
            fps=first.fps,
            cut=np.concatenate([p.cuts for p in ordered]),
        )
