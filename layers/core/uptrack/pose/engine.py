"""Choose a pose model by name and run it over a video's frames or one photo."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from uptrack.media import Frame, Image
from uptrack.pose.blazepose import BlazePose
from uptrack.pose.movenet import MoveNet
from uptrack.pose.runtime import REPO_MODELS_DIR
from uptrack.pose.series import PoseSeries
from uptrack.pose.timing import StageTimer

#: Model names accepted everywhere (CLI, API settings); the first is the default, as on PoseTracker.
MODEL_NAMES: tuple[str, ...] = (
    "movenet_lightning",
    "movenet_thunder",
    "blazepose_lite",
    "blazepose_full",
)
DEFAULT_MODEL = "movenet_lightning"
#: What `blazepose=true` selects unless a variant is named (`mediapipeModel`).
DEFAULT_BLAZEPOSE = "blazepose_full"


class PoseEstimator(Protocol):
    name: str
    names: tuple[str, ...]
    timer: StageTimer

    def reset(self) -> None: ...

    def track(self, image: Image) -> tuple[npt.NDArray[np.float32], float]: ...

    def estimate_image(self, image: Image) -> tuple[npt.NDArray[np.float32], float]: ...


@dataclass(frozen=True)
class EngineSettings:
    model: str = DEFAULT_MODEL
    threads: int = 1
    models_dir: Path = field(default_factory=lambda: REPO_MODELS_DIR)


PERSON_DETECTOR_FILE = "blazepose_detector.onnx"
"""BlazePose's person detector: BlazePose runs it, and photo mode counts people with it whatever model runs."""


def create_estimator(settings: EngineSettings) -> PoseEstimator:
    """Load the ONNX files of one model family (the only place file names are spelled)."""
    directory = settings.models_dir
    if settings.model == "movenet_lightning":
        return MoveNet(directory / "movenet_lightning.onnx", 192, settings.model, settings.threads)
    if settings.model == "movenet_thunder":
        return MoveNet(directory / "movenet_thunder.onnx", 256, settings.model, settings.threads)
    if settings.model.startswith("blazepose_"):
        variant = settings.model.removeprefix("blazepose_")
        return BlazePose(
            directory / PERSON_DETECTOR_FILE,
            directory / f"blazepose_landmark_{variant}.onnx",
            settings.model,
            settings.threads,
        )
    raise ValueError(f"unknown pose model {settings.model!r}; choose one of {', '.join(MODEL_NAMES)}")


def track_frames(estimator: PoseEstimator, frames: Iterable[Frame], width: int, height: int, fps: float) -> PoseSeries:
    """Run the tracker over consecutive frames (one chunk); tracking state starts fresh."""
    estimator.reset()
    indices: list[int] = []
    stamps: list[float] = []
    points: list[npt.NDArray[np.float32]] = []
    presence: list[float] = []
    cuts: list[bool] = []
    for frame in frames:
        keypoints, score = estimator.track(frame.image)
        cuts.append(frame.cut)
        indices.append(frame.index)
        stamps.append(frame.timestamp_ms)
        points.append(keypoints)
        presence.append(score)
    keypoint_count = len(estimator.names)
    return PoseSeries(
        model=estimator.name,
        names=estimator.names,
        frame_index=np.asarray(indices, dtype=np.int64),
        timestamp_ms=np.asarray(stamps, dtype=np.float32),
        keypoints=np.asarray(points, dtype=np.float32).reshape(-1, keypoint_count, 4),
        presence=np.asarray(presence, dtype=np.float32),
        width=width,
        height=height,
        fps=fps,
        cut=np.asarray(cuts, dtype=bool),
    )
