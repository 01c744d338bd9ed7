"""Contract rules that PoseTracker clients rely on and uptrack once missed: each test fails on the old behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    InitializationMessage,
    KeypointsBatchMessage,
    KeypointsMessage,
    ProgressionMessage,
    WarningMessage,
    dump_message,
)
from uptrack.contract.params import AnalysisRequest, parse_query, to_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.exercises.progression import rep_progression
from uptrack.export import Overlay
from uptrack.media import Frame
from uptrack.pipeline import opening_messages, video_messages
from uptrack.pose.keypoints import COCO_INDEX

from tests.unit.exercises.stick_figures import forearm_plank, series, squat_knees, standing


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


def test_keypoint_coordinates_stay_in_the_documented_unit_range() -> None:
    frame = standing(175.0)
    frame[COCO_INDEX["left_ankle"], :2] = (-0.013, 1.021)  # a foot cut off by the frame's bottom-left corner
    messages = video_messages(series([frame] * 30), AnalysisRequest(keypoints=True))
    points = [p for m in messages if isinstance(m, KeypointsMessage) for p in m.data]
    points += [p for m in messages if isinstance(m, KeypointsBatchMessage) for f in m.data for p in f.keypoints]
    assert points and all(0.0 <= p.x <= 1.0 and 0.0 <= p.y <= 1.0 for p in points)
    ankles = {(p.x, p.y) for p in points if p.name == "left_ankle"}
    assert ankles == {(0.0, 1.0)}


def test_skeleton_false_draws_the_count_but_no_skeleton() -> None:
    poses = series([standing(175.0)] * 3)
    frame = Frame(index=1, timestamp_ms=33.0, image=np.zeros((1000, 1000, 3), dtype=np.uint8))
    with_skeleton = Overlay.of(poses, []).draw(frame)
    without = Overlay.of(poses, [], skeleton=False).draw(frame)
    right_half = np.s_[:, 500:]  # the count panel sits top-left; the standing figure's limbs reach x > 500
    assert with_skeleton[right_half].any()
    assert not without[right_half].any()
    assert without[:100, :100].any(), "the count panel is still drawn"


MOMENT_TYPES = {"posture", "counter", "form_score", "progression", "recommendations", "keypoints", "angles",
                "exercise_summary"}  # fmt: skip
"""Types the README says always carry `timestampMs` (the video time they refer to)."""


def test_timestamps_follow_the_readme_rule() -> None:
    request = parse("exercise=squat&keypoints=true&angles=true&progression=true&recommendations=true&isAndroid=x")
    poses = series([standing(k) for k in squat_knees([80.0, 150.0, 80.0])])
    messages = [
        dump_message(m) for m in [*opening_messages(request, "movenet_lightning"), *video_messages(poses, request)]
    ]
    stamped = {m["type"] for m in messages if "timestampMs" in m}
    unstamped = {m["type"] for m in messages if "timestampMs" not in m}
    assert MOMENT_TYPES & unstamped == set()
    assert {"environment", "keypoints_batch"} <= unstamped and "warning" in unstamped
    assert messages[-1]["type"] == "initialization" and "timestampMs" in messages[-1], "a video's closing message"
    assert MOMENT_TYPES - {"recommendations"} <= stamped


def progression_and_counters(messages: list[BaseMessage]) -> tuple[list[tuple[int, float]], list[int]]:
    values = [(m.timestamp_ms or 0, m.value) for m in messages if isinstance(m, ProgressionMessage)]
    counted = [m.timestamp_ms or 0 for m in messages if isinstance(m, CounterMessage) and not m.final]
    return values, counted


def test_rep_progression_is_continuous_and_reaches_100_as_each_rep_counts() -> None:
    poses = series([standing(k) for k in squat_knees([80.0, 110.0, 80.0])])  # full, shallow, full
    messages = video_messages(poses, parse("exercise=squat&progression=true"))
    values, counted = progression_and_counters(messages)
    assert len(counted) == 2
    assert [t for t, v in values if v == 100.0] == counted, "100 exactly when a rep counts"
    assert len(values) >= 25, "a value per analysed frame (at most ten a second), not four steps per rep"
    assert all(0.0 <= v <= 100.0 for _, v in values)
    shallow = [v for t, v in values if counted[0] < t < 6000]
    assert shallow and 50.0 < max(shallow) < 100.0, "a rep that stops short comes back but never reaches 100"
    gaps = np.diff([t for t, _ in values])
    assert (gaps >= 100).sum() >= len(gaps) - len(counted), "at most ten a second (the rep's last value excepted)"
    first = [v for t, v in values if t <= counted[0]]
    assert first == sorted(first), "never goes back within a rep"
    index = {id(m): i for i, m in enumerate(messages)}
    hundred = next(m for m in messages if isinstance(m, ProgressionMessage) and m.value == 100.0)
    counter = next(m for m in messages if isinstance(m, CounterMessage))
    assert index[id(hundred)] < index[id(counter)], "the 100 comes just before the counter it completes"


def test_hold_progression_fills_each_second_and_reaches_100_as_it_counts() -> None:
    frames = [standing(175.0)] * 30 + [forearm_plank()] * 150
    values, counted = progression_and_counters(video_messages(series(frames), parse("exercise=plank&progression=true")))
    assert len(counted) >= 3
    assert [t for t, v in values if v == 100.0] == counted
    within = [v for t, v in values if counted[0] < t < counted[1]]
    assert within and all(50.0 <= v < 100.0 for v in within) and within == sorted(within)


def test_an_attempt_cut_off_before_its_recorded_peak_is_followed_to_its_end() -> None:
    progress = np.array([0.0, 0.4, 0.8, 1.2, 0.3])
    events = rep_progression(progress, np.arange(5) * 0.2, start=0, peak=3, end=2)
    assert [v for _, v in events] == [0.0, 20.0, 40.0]
