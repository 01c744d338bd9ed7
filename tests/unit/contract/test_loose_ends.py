"""Contract rules that PoseTracker clients rely on and uptrack once missed: each test fails on the old behaviour."""

from __future__ import annotations

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import BaseMessage, CounterMessage, InitializationMessage, WarningMessage
from uptrack.contract.params import AnalysisRequest, parse_query, to_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.pipeline import opening_messages, video_messages

from tests.unit.exercises.stick_figures import series, squat_knees, standing


def parse(query: str) -> AnalysisRequest:
    return parse_query(query, exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())


def squats(depths: list[float]) -> list[BaseMessage]:
    return video_messages(series([standing(k) for k in squat_knees(depths)]), parse("exercise=squat"))


def test_a_pose_only_video_ends_with_a_final_counter_of_zero() -> None:
    messages = video_messages(series([standing(175.0)] * 60), AnalysisRequest())
    finals = [m for m in messages if isinstance(m, CounterMessage) and m.final]
    assert [(m.current_count, m.timestamp_ms) for m in finals] == [(0, messages[-1].timestamp_ms)]
    assert messages.index(finals[0]) == len(messages) - 2  # just before "Analysis completed"
    assert isinstance(messages[-1], InitializationMessage) and messages[-1].ready


def test_exactly_one_final_counter_whatever_the_mode() -> None:
    finals = [m for m in squats([80.0]) if isinstance(m, CounterMessage) and m.final]
    assert len(finals) == 1


@pytest.mark.parametrize(
    ("query", "field", "default"),
    [
        ("isAndroid=maybe", "is_android", False),
        ("android=2", "is_android", False),
        ("poseBackend=cpu", "pose_backend", "webgl"),
        ("engine=v5", "engine", "v3"),
        ("runInWorker=perhaps", "run_in_worker", True),
        ("poseEngine=Not%20A%20Slug", "pose_engine", "tfjs"),
    ],
)
def test_a_malformed_compatibility_parameter_is_recorded_and_the_default_runs(
    query: str, field: str, default: object
) -> None:
    request = parse(f"exercise=squat&{query}")
    assert getattr(request, field) == default
    assert len(request.rejected) == 1
    assert parse(to_query(request)) == request
    warnings = [m for m in opening_messages(request, "movenet_lightning") if isinstance(m, WarningMessage)]
    assert [w.code for w in warnings] == ["ignored_param"]
    assert next(iter(request.rejected)) in warnings[0].message


@pytest.mark.parametrize("query", ["keypoints=maybe", "minGrade=E", "difficulty=insane", "mediapipeModel=ultra"])
def test_parameters_that_change_the_analysis_still_fail(query: str) -> None:
    with pytest.raises(UptrackError) as caught:
        parse(f"exercise=squat&{query}")
    assert caught.value.code is ErrorCode.INVALID_PARAMS


def test_valid_compatibility_values_send_no_warning() -> None:
    request = parse("exercise=squat&isAndroid=true&poseBackend=wasm&engine=v4")
    assert request.rejected == {}
    assert not [m for m in opening_messages(request, "movenet_lightning") if isinstance(m, WarningMessage)]
