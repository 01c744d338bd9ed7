"""PCK@0.2 of every pose model on the ground-truth photos in shared/media/photos.

PCK@0.2 (torso-normalised): a predicted joint is correct when it lies within 0.2 × the torso diameter
(left shoulder to right hip) of the annotated joint. Only single-person photos are scored, since the
single-pose models are not asked which person to find. Run: `python -m uptrack_service.tools.pose_accuracy`.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from uptrack.media import load_image
from uptrack.pose.engine import MODEL_NAMES, EngineSettings, create_estimator
from uptrack.pose.keypoints import BLAZEPOSE_TO_COCO, COCO_INDEX
from uptrack.pose.runtime import REPO_MODELS_DIR

PCK_RATIO = 0.2
#: MPII joint index → COCO name, for the 12 body joints both formats share.
MPII_TO_COCO = {
    0: "right_ankle",
    1: "right_knee",
    2: "right_hip",
    3: "left_hip",
    4: "left_knee",
    5: "left_ankle",
    10: "right_wrist",
    11: "right_elbow",
    12: "right_shoulder",
    13: "left_shoulder",
    14: "left_elbow",
    15: "left_wrist",
}


@dataclass(frozen=True)
class GroundTruth:
    """Annotated joints of one single-person photo, in pixels, keyed by COCO name."""

    photo: Path
    joints: dict[str, tuple[float, float]]
    torso: float


def single_person_truths(photos: Path) -> list[GroundTruth]:
    """Photos with exactly one annotated person who has visible keypoints."""
    truths = _coco_truths(photos) + _mpii_truths(photos)
    return sorted(truths, key=lambda truth: truth.photo.name)


def _coco_truths(photos: Path) -> list[GroundTruth]:
    data = json.loads((photos / "keypoints_gt_coco.json").read_text())
    renamed = data.get("renamed_files", {})
    truths = []
    for image in data["images"]:
        people = [a for a in data["annotations"] if a["image_id"] == image["id"] and a.get("num_keypoints", 0) > 0]
        if len(people) != 1:
            continue
        points = np.asarray(people[0]["keypoints"], dtype=np.float64).reshape(17, 3)
        joints = {name: (float(points[i, 0]), float(points[i, 1])) for name, i in COCO_INDEX.items() if points[i, 2]}
        torso = float(np.linalg.norm(points[COCO_INDEX["left_shoulder"], :2] - points[COCO_INDEX["right_hip"], :2]))
        truths.append(GroundTruth(photos / renamed.get(image["file_name"], image["file_name"]), joints, torso))
    return truths


def _mpii_truths(photos: Path) -> list[GroundTruth]:
    data = json.loads((photos / "keypoints_gt_mpii.json").read_text())
    renamed = data.get("renamed_files", {})
    truths = []
    for annotation in data["annotations"]:
        joints_px = np.asarray(annotation["joints"], dtype=np.float64)
        visible = annotation["joints_vis"]
        joints = {
            name: (float(joints_px[i, 0]), float(joints_px[i, 1])) for i, name in MPII_TO_COCO.items() if visible[i]
        }
        torso = float(np.linalg.norm(joints_px[13] - joints_px[2]))
        truths.append(GroundTruth(photos / renamed.get(annotation["image"], annotation["image"]), joints, torso))
    return truths


def pck(predicted: npt.NDArray[np.float32], truth: GroundTruth, width: int, height: int) -> float:
    """Share of annotated joints found within PCK_RATIO × torso; `predicted` is (17, ≥2) normalised COCO."""
    hits = []
    for name, (x, y) in truth.joints.items():
        px, py = predicted[COCO_INDEX[name], 0] * width, predicted[COCO_INDEX[name], 1] * height
        distance = float(np.hypot(px - x, py - y)) if np.isfinite(px) and np.isfinite(py) else np.inf
        hits.append(distance <= PCK_RATIO * truth.torso)
    return float(np.mean(hits)) if hits else 0.0


def evaluate(model: str, truths: list[GroundTruth], models_dir: Path | None = None) -> dict[str, float]:
    """PCK of one model on each photo."""
    estimator = create_estimator(EngineSettings(model, models_dir=models_dir or REPO_MODELS_DIR))
    scores = {}
    for truth in truths:
        image = load_image(truth.photo)
        keypoints, _ = estimator.estimate_image(image)
        coco = keypoints[list(BLAZEPOSE_TO_COCO)] if len(keypoints) == 33 else keypoints
        scores[truth.photo.name] = pck(coco, truth, image.shape[1], image.shape[0])
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--media", type=Path, default=Path("../shared/media"))
    parser.add_argument("--models", nargs="*", default=list(MODEL_NAMES))
    args = parser.parse_args()
    truths = single_person_truths(args.media / "photos")
    print(f"PCK@{PCK_RATIO} (torso-normalised) on {len(truths)} single-person ground-truth photos")
    print(f"{'model':<20} " + " ".join(f"{t.photo.stem[:22]:>22}" for t in truths) + f" {'mean':>6}")
    for model in args.models:
        try:
            scores = evaluate(model, truths)
        except FileNotFoundError as missing:
            print(f"{model:<20} not available: {missing}")
            continue
        values = list(scores.values())
        print(f"{model:<20} " + " ".join(f"{v:>22.3f}" for v in values) + f" {np.mean(values):>6.3f}")


if __name__ == "__main__":
    main()
