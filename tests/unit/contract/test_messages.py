"""Message models (contract §3): wire shapes, both spellings where sources conflict, and round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.grades import grade_at_least, grade_for
from uptrack.contract.messages import (
    MESSAGE_TYPES,
    AnglesMessage,
    CameraPlacement,
    CounterMessage,
    CriterionScore,
    EnvironmentMessage,
    ErrorMessage,
    ExerciseSummaryMessage,
    ExportReadyMessage,
    FormScore,
    FormScoreMessage,
    ImageOverlayMessage,
    InitializationMessage,
    Interpretation,
    JumpCalibrationMessage,
    JumpDiscardedMessage,
    JumpEntry,
    JumpHeightMessage,
    JumpResultMessage,
    JumpStartedMessage,
    JumpSummaryMessage,
    Keypoint,
    KeypointsBatchMessage,
    KeypointsFrame,
    KeypointsMessage,
    PhysicalTestAnalysis,
    PostureMessage,
    ProgressionMessage,
    ProgressMessage,
    RecommendationsMessage,
    ReferenceScore,
    RepSummary,
    VisibleHips,
    WarningMessage,
    dump_message,
    parse_message,
)

from tests.support.paths import REPO

SCHEMAS = REPO / "docs" / "schemas"
NOSE = Keypoint(name="nose", x=0.51, y=0.12, z=-0.02, score=0.99)
SHOULDER = Keypoint(name="left_shoulder", x=0.42, y=0.31, score=0.97)
FORM = FormScore.of(86, 82.04)
SWUNG = FormScore.of(
    65.7,
    68.7,
    [
        CriterionScore(name="depth", label="range of motion", score=100, bar=85),
        CriterionScore(name="stability", label="elbows still", score=31.4, bar=70),
    ],
    "stability",
)
REFERENCE = ReferenceScore(
    overall_score=0.87,
    grade="A",
    pose_score=0.82,
    timing_score=0.91,
    movement_score=0.88,
    ncc_score=0.85,
    dtw_score=0.8,
    dist_score=0.9,
)

EXAMPLES: list[Any] = [
    InitializationMessage(message="loading video", ready=False, source="video"),
    EnvironmentMessage(pose_backend="wasm", webgl=False, runtime="onnxruntime-cpu"),
    ErrorMessage.from_error(UptrackError(ErrorCode.INVALID_EXERCISE, "Unknown exercise: split", {"exercise": "split"})),
    WarningMessage.of("quality_downgraded", "Low resolution video"),
    PostureMessage(message="Face the camera.", direction="in-frame", ready=False, requirements=["full_body_visible"]),
    CounterMessage(current_count=3, form_score=FORM, timestamp_ms=4200, seq=7, upload_id="up-1"),
    CounterMessage(current_count=1, reference_score=REFERENCE),
    CounterMessage(current_count=12, final=True, form_score=FORM),
    FormScoreMessage.of(FORM),
    ProgressionMessage(value=10),
    RecommendationsMessage.of(["Go lower.", "Keep your back straight."]),
    KeypointsMessage.of([NOSE, SHOULDER], frame_id=421, timestamp_ms=1000),
    KeypointsBatchMessage(data=[KeypointsFrame(timestamp_ms=0, frame_id=0, keypoints=[NOSE])]),
    AnglesMessage.of({"left_knee": (172.4, 0.91), "right_elbow": (90.0, 0.5)}),
    ExerciseSummaryMessage(
        exercise="squat",
        counter=1,
        avg_rep_score=86,
        grade="B",
        duration_ms=5000,
        history=[RepSummary(index=1, score=86, grade="B", form_score=FORM, start_ms=10, end_ms=1810, duration_ms=1800)],
    ),
    ExportReadyMessage(url="https://bucket.example/export.mp4"),
    ImageOverlayMessage.of(b"\x89PNG"),
    ProgressMessage(percent=42.5, frames_done=85, frames_total=200),
    JumpCalibrationMessage(cm_per_pixel=0.37, baseline_y=505.3, visible_hips=VisibleHips(left=True, right=False)),
    JumpStartedMessage(timestamp_ms=1075),
    JumpHeightMessage(jump_height_cm=19.9, measuring=True, landed=False),
    JumpHeightMessage(
        jump_height_cm=19.9,
        measuring=False,
        landed=True,
        final=True,
        baseline_y=471.7,
        min_y=398.4,
        delta_pixels=73.3,
        side_used="both",
        air_time_ms=403,
        air_time_seconds=0.403,
        visible_hips=VisibleHips(left=True, right=True),
    ),
    JumpDiscardedMessage(reason="feet_not_visible", user_message="Keep both feet in the frame."),
    JumpResultMessage(jump_number=1, jump_height_cm=19.9, air_time_ms=403, air_time_seconds=0.403, takeoff_ms=1075),
    JumpSummaryMessage(
        total_jumps=1,
        avg_jump_height=19.9,
        max_jump_height=19.9,
        min_jump_height=19.9,
        avg_air_time_seconds=0.403,
        jumps=[JumpEntry(jump_number=1, jump_height_cm=19.9, air_time_ms=403, air_time_seconds=0.403)],
    ),
    CounterMessage(
        current_count=1,
        form_score=FormScore(score=52.8, avg_score=52.8, grade="E"),
        analysis=PhysicalTestAnalysis(
            peaks={"trunk_angle_deg": 50.0, "hip_angle_deg": 130.0},
            camera=CameraPlacement(placement="mid", bias="none"),
            disclaimer="For information only.",
            method="Trunk angle at the deepest point.",
            interpretation=Interpretation(tone="partial", title="Moderate flexibility", text="50 degrees."),
            opinion=False,
        ),
    ),
    FormScoreMessage.of(SWUNG, timestamp_ms=8400),
    ExerciseSummaryMessage(
        exercise="bicep_curl",
        counter=1,
        avg_rep_score=65.7,
        grade="D",
        history=[
            RepSummary(index=1, score=65.7, grade="D", form_score=SWUNG, start_ms=6400, end_ms=8400, duration_ms=2000)
        ],
    ),
]


def test_every_message_type_has_an_example() -> None:
    assert {type(m) for m in EXAMPLES} == set(MESSAGE_TYPES)
    assert len({m.model_fields["type"].default for m in MESSAGE_TYPES}) == len(MESSAGE_TYPES) == 22


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: str(m.type))
def test_round_trip_through_json(message: Any) -> None:
    wire = dump_message(message)
    assert next(iter(wire)) == "type"
    assert parse_message(json.dumps(wire)) == message
    assert parse_message(wire) == message
    assert None not in wire.values()


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: str(m.type))
def test_examples_fit_their_committed_schema(message: Any) -> None:
    wire = dump_message(message)
    schema = json.loads((SCHEMAS / f"{wire['type']}.json").read_text())
    assert set(wire) <= set(schema["properties"])
    assert set(schema.get("required", [])) <= set(wire)
    assert schema["properties"]["type"]["const"] == wire["type"]


def test_error_carries_code_and_error_and_details() -> None:
    wire = dump_message(ErrorMessage.from_error(UptrackError(ErrorCode.QUOTA_EXCEEDED, "over", {"quota": 500})))
    assert wire == {
        "type": "error",
        "code": "quota_exceeded",
        "error": "quota_exceeded",
        "message": "over",
        "details": {"quota": 500},
    }


def test_error_without_details_has_no_details_key() -> None:
    assert "details" not in dump_message(ErrorMessage.from_error(UptrackError(ErrorCode.MISSING_TOKEN, "m")))


@pytest.mark.parametrize("key", ["code", "error"])
def test_error_parses_from_either_vendor_spelling(key: str) -> None:
    message = parse_message({"type": "error", key: "invalid_token", "message": "Invalid or missing token."})
    assert isinstance(message, ErrorMessage) and message.code == message.error == "invalid_token"


def test_warning_carries_both_code_keys() -> None:
    assert dump_message(WarningMessage.of("quality_downgraded", "m")) == {
        "type": "warning",
        "error": "quality_downgraded",
        "code": "quality_downgraded",
        "message": "m",
    }
    assert parse_message({"type": "warning", "error": "x", "message": "m"}) == WarningMessage.of("x", "m")


def test_keypoints_under_data_and_keypoints_with_mean_score() -> None:
    wire = dump_message(KeypointsMessage.of([NOSE, SHOULDER], frame_id=421, timestamp_ms=1730))
    expected = [
        {"name": "nose", "x": 0.51, "y": 0.12, "z": -0.02, "score": 0.99},
        {"name": "left_shoulder", "x": 0.42, "y": 0.31, "score": 0.97},
    ]
    assert wire["data"] == wire["keypoints"] == expected
    assert (wire["frameId"], wire["timestampMs"]) == (421, 1730)
    assert wire["score"] == pytest.approx(0.98)


@pytest.mark.parametrize("key", ["data", "keypoints"])
def test_keypoints_parse_from_either_array(key: str) -> None:
    message = parse_message({"type": "keypoints", key: [{"name": "nose", "x": 0.5, "y": 0.5, "score": 1}]})
    assert isinstance(message, KeypointsMessage) and message.data == message.keypoints


def test_empty_pose_has_zero_score() -> None:
    assert KeypointsMessage.of([]).score == 0


def test_angles_classic_tree() -> None:
    wire = dump_message(
        AnglesMessage.of(
            {
                "left_knee": (172.4, 0.91),
                "left_hip": (168.0, 0.88),
                "right_shoulder": (24.5, 0.85),
                "right_elbow": (171.2, 0.8),
            }
        )
    )
    assert wire == {
        "type": "angles",
        "data": {
            "left_side": {
                "knee_angle": {"from_hip_to_ankle": 172.4, "score_from_hip_to_ankle": 0.91},
                "hip_angle": {"from_knee_to_shoulder": 168.0, "score_from_knee_to_shoulder": 0.88},
            },
            "right_side": {
                "shoulder_angle": {"from_hip_to_elbow": 24.5, "score_from_hip_to_elbow": 0.85},
                "elbow_angle": {"from_shoulder_to_wrist": 171.2, "score_from_shoulder_to_wrist": 0.8},
            },
        },
    }


def test_angles_reject_unknown_ids() -> None:
    with pytest.raises(ValueError, match="center_knee"):
        AnglesMessage.of({"center_knee": (1.0, 1.0)})


def test_counter_with_form_score_and_both_reference_families() -> None:
    wire = dump_message(CounterMessage(current_count=1, form_score=FORM, reference_score=REFERENCE))
    assert wire["form_score"] == {"score": 86.0, "avg_score": 82.0, "grade": "B"}
    assert set(wire["reference_score"]) == {
        "overallScore",
        "grade",
        "poseScore",
        "timingScore",
        "movementScore",
        "nccScore",
        "dtwScore",
        "distScore",
    }


def test_form_score_criteria_are_uptracks_additions_to_posetrackers_fields() -> None:
    wire = dump_message(FormScoreMessage.of(SWUNG))
    assert wire["criteria"][1] == {"name": "stability", "label": "elbows still", "score": 31.4, "bar": 70.0}
    assert wire["failed_criterion"] == "stability"
    assert {"score": 65.7, "avg_score": 68.7, "grade": "D"}.items() <= wire.items()  # PoseTracker's, unchanged
    vendor = parse_message({"type": "form_score", "score": 86.0, "avg_score": 82.0, "grade": "B"})
    assert dump_message(vendor) == {"type": "form_score", "score": 86.0, "avg_score": 82.0, "grade": "B"}
    passed = FormScore.of(95, 95, [CriterionScore(name="tempo", label="tempo", score=100, bar=70)])
    assert "failed_criterion" not in dump_message(CounterMessage(current_count=1, form_score=passed))["form_score"]
    with pytest.raises(ValidationError):
        CriterionScore(name="depth", label="range of motion", score=101, bar=85)


def test_final_counter_is_marked() -> None:
    assert dump_message(CounterMessage(current_count=12, final=True)) == {
        "type": "counter",
        "current_count": 12,
        "final": True,
    }


def test_recommendations_data_and_message() -> None:
    wire = dump_message(RecommendationsMessage.of(["Go lower.", "Chest up."]))
    assert wire == {"type": "recommendations", "data": ["Go lower.", "Chest up."], "message": "Go lower. Chest up."}
    legacy = parse_message({"type": "recommendations", "message": "Try to go lower"})
    assert isinstance(legacy, RecommendationsMessage) and legacy.data == ["Try to go lower"]


def test_summary_history_names_satisfy_sdk_and_issue() -> None:
    rep = dump_message(EXAMPLES[14])["history"][0]
    assert {"index", "score", "grade", "formScore", "startMs", "endMs", "durationMs"} <= set(rep)


def test_image_overlay_under_data_and_url() -> None:
    wire = dump_message(ImageOverlayMessage.of(b"abc", mime="image/jpeg"))
    assert wire["data"] == wire["url"] == "data:image/jpeg;base64,YWJj"
    with pytest.raises(ValidationError):
        ImageOverlayMessage(data="https://x", url="https://x")


def test_base_fields_are_camel_case_on_the_wire() -> None:
    progress = ProgressMessage(percent=50, frames_done=1, frames_total=2, timestamp_ms=5, seq=1, upload_id="u")
    wire = dump_message(progress)
    assert wire == {
        "type": "progress",
        "percent": 50.0,
        "framesDone": 1,
        "framesTotal": 2,
        "timestampMs": 5,
        "seq": 1,
        "uploadId": "u",
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "nope"},
        {"type": "counter"},
        {"type": "counter", "current_count": -1},
        {"type": "counter", "current_count": 1, "surprise": True},
        {"type": "progression", "value": 101},
        {"type": "form_score", "score": 90, "avg_score": 90, "grade": "Z"},
        {"type": "keypoints", "data": [{"name": "nose", "x": "nan", "y": 0, "score": 1}]},
        {"type": "progress", "percent": float("nan"), "framesDone": 0},
    ],
)
def test_off_contract_messages_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_message(bad)


@pytest.mark.parametrize(
    ("score", "grade"), [(100, "A"), (90, "A"), (89.9, "B"), (80, "B"), (70, "C"), (60, "D"), (59.9, "F"), (0, "F")]
)
def test_grade_bands(score: float, grade: str) -> None:
    assert grade_for(score) == grade


def test_non_finite_score_is_f() -> None:
    assert grade_for(float("nan")) == grade_for(float("inf")) == "F"


@given(st.floats(min_value=0, max_value=100))
def test_form_score_grade_follows_score(score: float) -> None:
    assert FormScore.of(score, score).grade == grade_for(score)


def test_grade_at_least() -> None:
    assert grade_at_least("A", "B") and grade_at_least("B", "B")
    assert not grade_at_least("C", "B") and not grade_at_least("F", "D") and not grade_at_least("E", "D")
    assert grade_at_least("F", None)
