"""The pose engine on real photos and clips: accuracy against ground truth, and tracking behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from uptrack.chunks import infer_chunk, infer_chunk_run, plan_chunks
from uptrack.media import iter_frames, probe_video
from uptrack.pose.blazepose import BlazePose
from uptrack.pose.engine import EngineSettings, create_estimator, track_frames
from uptrack_service.tools.pose_accuracy import evaluate, single_person_truths

from tests.support.paths import SAMPLE_VIDEO


@pytest.mark.parametrize(("model", "floor"), [("blazepose_full", 0.9), ("movenet_thunder", 0.9)])
def test_pck_on_ground_truth_photos(media_dir: Path, model: str, floor: float) -> None:
    scores = evaluate(model, single_person_truths(media_dir / "photos"))
    assert len(scores) == 3
    assert np.mean(list(scores.values())) >= floor


@pytest.mark.parametrize("model", ["movenet_lightning", "blazepose_lite"])
def test_every_model_finds_the_skier(media_dir: Path, model: str) -> None:
    scores = evaluate(model, single_person_truths(media_dir / "photos"))
    assert scores["coco_000000000785_skier_single_person.jpg"] >= 0.9


def test_blazepose_runs_the_detector_only_when_tracking_is_lost() -> None:
    estimator = create_estimator(EngineSettings(model="blazepose_lite"))
    assert isinstance(estimator, BlazePose)
    calls = 0
    detect = estimator.detector.detect

    def counting_detect(image: np.ndarray) -> object:
        nonlocal calls
        calls += 1
        return detect(image)

    estimator.detector.detect = counting_detect  # type: ignore[method-assign]
    info = probe_video(SAMPLE_VIDEO)
    series = track_frames(estimator, iter_frames(SAMPLE_VIDEO, stop=90), info.width, info.height, info.fps)
    assert len(series) == 90
    assert np.isfinite(series.keypoints[:, :, :2]).all()
    assert calls <= 5


def test_movenet_tracks_the_lifter_through_the_sample() -> None:
    estimator = create_estimator(EngineSettings(model="movenet_lightning"))
    info = probe_video(SAMPLE_VIDEO)
    series = track_frames(estimator, iter_frames(SAMPLE_VIDEO, stride=3), info.width, info.height, info.fps)
    coco = series.coco
    hips_y = coco[:, 11:13, 1].mean(axis=1)
    confident = coco[:, 11:13, 2].min(axis=1) > 0.3
    assert confident.mean() > 0.8
    # Two squats: the hips drop well below standing height twice (bottoms near 2.3 s and 5.4 s).
    standing = np.percentile(hips_y[confident], 10)
    times = series.timestamp_ms / 1000
    for bottom in (2.3, 5.4):
        near = (np.abs(times - bottom) < 0.5) & confident
        assert hips_y[near].max() - standing > 0.05


@pytest.mark.parametrize("stride", [2, 3])
def test_a_run_of_chunks_equals_the_chunks_analysed_one_by_one(stride: int) -> None:
    """The CLI decodes a worker's chunks in one pass; the cloud analyses each alone: the series must be equal."""
    estimator = create_estimator(EngineSettings(model="movenet_lightning"))
    info = probe_video(SAMPLE_VIDEO)
    chunks = plan_chunks(info.frame_count, 60)
    alone = [infer_chunk(SAMPLE_VIDEO, chunk, estimator, info, stride) for chunk in chunks]
    in_one_pass = list(infer_chunk_run(SAMPLE_VIDEO, chunks, estimator, info, stride))
    assert len(alone) == len(in_one_pass) == 4
    assert all((part.frame_index % stride == 0).all() for part in in_one_pass)
    for one, other in zip(alone, in_one_pass, strict=True):
        assert np.array_equal(one.frame_index, other.frame_index)
        assert np.array_equal(one.timestamp_ms, other.timestamp_ms)
        assert np.array_equal(one.keypoints, other.keypoints, equal_nan=True)
