"""How many pose samples a second each request is analysed at (`analysis_fps`), and the frame stride it gives."""

from __future__ import annotations

import pytest
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.catalogue import EXERCISES, ExerciseDefinition
from uptrack.pipeline import ANALYSIS_FPS, MIN_ANALYSIS_FPS, analysis_fps, request_stride


def test_pose_streams_and_references_keep_the_full_analysis_rate() -> None:
    assert analysis_fps(AnalysisRequest()) == ANALYSIS_FPS
    assert analysis_fps(AnalysisRequest(reference="ref_1")) == ANALYSIS_FPS


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if not e.is_duration], ids=lambda e: e.id)
def test_every_rep_exercise_gets_eight_samples_in_its_fastest_ideal_rep(exercise: ExerciseDefinition) -> None:
    fps = analysis_fps(AnalysisRequest(exercise=exercise.id))
    assert MIN_ANALYSIS_FPS <= fps <= ANALYSIS_FPS
    assert fps * exercise.tempo.ideal[0] >= 8 or fps == ANALYSIS_FPS


@pytest.mark.parametrize(
    ("exercise", "video_fps", "stride"),
    [
        ("squat", 30.0, 3),
        ("squat", 29.97, 3),
        ("push_up", 60.0, 6),
        ("bicep_curl", 25.0, 2),
        ("jumping_jack", 30.0, 2),
        ("jumping_jack", 23.976, 1),
        ("plank", 30.0, 3),
    ],
)
def test_stride_per_exercise_and_frame_rate(exercise: str, video_fps: float, stride: int) -> None:
    assert request_stride(AnalysisRequest(exercise=exercise), video_fps) == stride


def test_slow_footage_is_never_skipped() -> None:
    assert request_stride(AnalysisRequest(exercise="squat"), 8.0) == 1
