"""Rules of `parse_query` (contract §2), one test per rule, plus property tests on arbitrary input."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import (
    COMBINE_REFERENCE_MESSAGE,
    DISPLAY_PARAMS,
    MAX_QUERY_CHARS,
    MAX_UNKNOWN_PARAMS,
    AnalysisRequest,
    effective_min_grade,
    parse_query,
    to_query,
)

REPS = frozenset(
    {"squat", "push_up", "lunge", "side_lunge", "jumping_jack", "low_impact_jack", "sit_up", "pull_up", "jump_analysis"}
    | {"air_time_jump", "bicep_curl"}
)
HOLDS = frozenset({"plank", "wall_sit", "balance_leg", "balance_leg_left", "balance_leg_right"})
CATALOGUE = REPS | HOLDS


def parse(query: Any) -> AnalysisRequest:
    return parse_query(query, exercise_ids=CATALOGUE, duration_exercise_ids=HOLDS)


def error_of(query: Any) -> UptrackError:
    with pytest.raises(UptrackError) as caught:
        parse(query)
    return caught.value


# --- defaults and types -----------------------------------------------------------------------------------------


def test_empty_query_gives_contract_defaults() -> None:
    request = parse("")
    assert request == AnalysisRequest()
    assert (request.source, request.difficulty, request.skeleton) == ("video", "medium", True)
    assert request.run_in_worker is True
    assert (request.pose_backend, request.mediapipe_model, request.engine, request.pose_engine) == (
        "webgl",
        "lite",
        "v3",
        "tfjs",
    )
    assert not any((request.keypoints, request.angles, request.progression, request.recommendations))
    assert not any((request.blazepose, request.export, request.is_android))
    assert request.token is None and request.exercise is None and request.min_grade is None


def test_every_parameter_is_read() -> None:
    request = parse(
        "?token=upt_abc&isAndroid=true&source=video&videoSrc=https://cdn.example/v.mp4&exercise=squat"
        "&difficulty=hard&minGrade=b&skeleton=false&keypoints=true&angles=true&progression=true"
        "&recommendations=true&blazepose=true&poseBackend=wasm&runInWorker=false&poseEngine=mediapipe"
        "&mediapipeModel=full&engine=v4&export=true&userHeightCm=181.5&devicePitchDeg=-12"
    )
    assert request.model_dump() == {
        **AnalysisRequest().model_dump(),
        "token": "upt_abc",
        "is_android": True,
        "video_src": "https://cdn.example/v.mp4",
        "exercise": "squat",
        "difficulty": "hard",
        "min_grade": "B",
        "skeleton": False,
        "keypoints": True,
        "angles": True,
        "progression": True,
        "recommendations": True,
        "blazepose": True,
        "pose_backend": "wasm",
        "run_in_worker": False,
        "pose_engine": "mediapipe",
        "mediapipe_model": "full",
        "engine": "v4",
        "export": True,
        "user_height_cm": 181.5,
        "device_pitch_deg": -12.0,
    }


def test_reference_mode_defaults_scoring_profile_to_kali_analysis() -> None:
    assert parse("reference=3f2a-uuid").scoring_profile == "kali-analysis"
    assert parse("reference=3f2a-uuid&scoring_profile=kali").scoring_profile == "kali"
    assert parse("reference=r1&scoringProfile=KALI_ANALYSIS").scoring_profile == "kali-analysis"


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("False", False), ("0", False)]
)
def test_boolean_spellings(text: str, expected: bool) -> None:
    assert parse(f"keypoints={text}").keypoints is expected


def test_bad_boolean_is_invalid_params() -> None:
    error = error_of("angles=maybe")
    assert error.code is ErrorCode.INVALID_PARAMS and error.details == {"param": "angles"}


def test_skeleton_is_bool_or_style_id() -> None:
    assert parse("skeleton=false").skeleton is False
    assert parse("skeleton=6b1c8f7e-0a3d-4a55-9d2e-5b2f0f8a3c11").skeleton == "6b1c8f7e-0a3d-4a55-9d2e-5b2f0f8a3c11"
    assert error_of("skeleton=<script>").details == {"param": "skeleton"}


# --- aliases and case rules -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["isAndroid", "android", "is_android", "ISANDROID", "Android"])
def test_is_android_aliases(name: str) -> None:
    assert parse(f"{name}=true").is_android is True


@pytest.mark.parametrize("name", ["reference", "reference_movement", "referenceMovement"])
def test_reference_aliases(name: str) -> None:
    assert parse(f"{name}=abc").reference == "abc"


@pytest.mark.parametrize("name", ["minGrade", "min_grade", "MINGRADE", "mingrade"])
def test_parameter_names_ignore_case_and_separators(name: str) -> None:
    assert parse(f"exercise=squat&{name}=c").min_grade == "C"


@pytest.mark.parametrize(("value", "grade"), [("a", "A"), ("B", "B"), (" c ", "C"), ("d", "D")])
def test_min_grade_is_case_insensitive(value: str, grade: str) -> None:
    assert parse({"exercise": "squat", "minGrade": value}).min_grade == grade


@pytest.mark.parametrize("value", ["E", "F", "f", "AB", "1", "nan"])
def test_min_grade_rejects_other_letters(value: str) -> None:
    assert error_of({"minGrade": value}).details == {"param": "minGrade"}


def test_enum_values_are_case_insensitive_but_tokens_are_not() -> None:
    request = parse("source=IMAGE&poseBackend=WASM&token=UPT_Abc")
    assert (request.source, request.pose_backend, request.token) == ("image", "wasm", "UPT_Abc")


@pytest.mark.parametrize(("given", "expected"), [("normal", "medium"), ("pro", "hard"), ("Easy", "easy")])
def test_difficulty_legacy_spellings(given: str, expected: str) -> None:
    assert parse(f"difficulty={given}").difficulty == expected


def test_unknown_difficulty_is_invalid() -> None:
    assert error_of("difficulty=insane").code is ErrorCode.INVALID_PARAMS


# --- exercises --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("face_squat", "squat"),
        ("face_pushup", "push_up"),
        ("face_plank", "plank"),
        ("face_lunge", "lunge"),
        ("face_jumping_jack", "jumping_jack"),
        ("face_low_impact_jack", "low_impact_jack"),
        ("face_balance_leg", "balance_leg"),
        ("face_balance_leg_left", "balance_leg_left"),
        ("face_balance_leg_right", "balance_leg_right"),
        ("side_squat", "squat"),
        ("side_lunge", "side_lunge"),
        ("side_pushup", "push_up"),
        ("jump", "air_time_jump"),
        ("pushup", "push_up"),
        ("situp", "sit_up"),
        ("pullup", "pull_up"),
        ("Push-Up", "push_up"),
        ("SQUAT", "squat"),
    ],
)
def test_exercise_aliases_resolve_to_catalogue_ids(alias: str, canonical: str) -> None:
    assert parse(f"exercise={alias}").exercise == canonical


def test_unknown_exercise_is_invalid_exercise_with_the_id() -> None:
    error = error_of("exercise=split")
    assert error.code is ErrorCode.INVALID_EXERCISE
    assert error.message == "Unknown exercise: split" and error.details["exercise"] == "split"


def test_validation_uses_the_callers_catalogue() -> None:
    assert parse_query("exercise=split", exercise_ids={"split"}).exercise == "split"
    with pytest.raises(UptrackError):
        parse_query("exercise=squat", exercise_ids={"split"})


def test_injection_looking_exercise_is_invalid_exercise() -> None:
    error = error_of("exercise=squat';DROP TABLE tokens;--")
    assert error.code is ErrorCode.INVALID_EXERCISE


def test_exercise_with_reference_is_the_vendor_error() -> None:
    error = error_of("exercise=squat&reference=abc")
    assert error.code is ErrorCode.INVALID_PARAMS
    assert (
        error.message
        == COMBINE_REFERENCE_MESSAGE
        == ("You cannot combine reference & exercise. Please check the documentation.")
    )


def test_exercise_with_reference_is_checked_before_the_catalogue() -> None:
    assert error_of("exercise=nope&reference_movement=abc").message == COMBINE_REFERENCE_MESSAGE


def test_direct_construction_enforces_exercise_reference_exclusivity() -> None:
    with pytest.raises(UptrackError) as caught:
        AnalysisRequest(exercise="squat", reference="abc")
    assert caught.value.message == COMBINE_REFERENCE_MESSAGE
    assert AnalysisRequest(source="image", exercise="squat", reference="abc").exercise == "squat"


# --- rules on minGrade and images --------------------------------------------------------------------------------


@pytest.mark.parametrize("hold", sorted(HOLDS))
def test_min_grade_ignored_for_duration_exercises(hold: str) -> None:
    request = parse(f"exercise={hold}&minGrade=A")
    assert request.min_grade is None and request.ignored == {"minGrade": "A"}


@pytest.mark.parametrize("jump", ["jump_analysis", "air_time_jump", "jump"])
def test_min_grade_ignored_for_jump_exercises(jump: str) -> None:
    assert parse(f"exercise={jump}&minGrade=b&userHeightCm=180").min_grade is None


@pytest.mark.parametrize("sent", ["jump_analysis", "Jump_Analysis"])
def test_jump_analysis_without_height_is_its_own_error_naming_the_id_sent(sent: str) -> None:
    error = error_of(f"exercise={sent}&devicePitchDeg=10")
    assert error.code is ErrorCode.JUMP_ANALYSIS_MISSING_HEIGHT
    assert error.details == {"exercise": sent, "param": "userHeightCm"}
    assert parse("exercise=jump").exercise == "air_time_jump"  # timed from the air: no height needed


def test_min_grade_kept_for_repetition_exercises() -> None:
    assert parse("exercise=squat&minGrade=b").min_grade == "B"


def test_image_never_counts_and_ignores_video_only_parameters() -> None:
    request = parse(
        "source=image&exercise=squat&minGrade=a&progression=true&recommendations=true&export=true"
        "&videoSrc=https://x.example/v.mp4&difficulty=hard&keypoints=true&angles=true&imageSrc=https://x.example/i.png"
    )
    assert request.exercise is None and request.min_grade is None
    assert not (request.progression or request.recommendations or request.export)
    assert request.video_src is None and request.difficulty == "medium"
    assert (request.keypoints, request.angles, request.image_src) == (True, True, "https://x.example/i.png")
    assert set(request.ignored) == {
        "exercise",
        "minGrade",
        "progression",
        "recommendations",
        "export",
        "videoSrc",
        "difficulty",
    }


def test_image_ignores_even_unknown_or_conflicting_exercise() -> None:
    request = parse("source=image&exercise=nonsense&reference=abc")
    assert request.exercise is None and request.reference is None


def test_video_ignores_image_src() -> None:
    request = parse("imageSrc=https://x.example/i.png")
    assert request.image_src is None and request.ignored == {"imageSrc": "https://x.example/i.png"}


def test_user_exercise_is_real_time_only() -> None:
    request = parse("exercise=squat&userExercise=abc")
    assert request.exercise == "squat" and request.ignored == {"userExercise": "abc"}


@pytest.mark.parametrize(
    ("request_", "is_duration", "expected"),
    [
        (AnalysisRequest(exercise="squat", min_grade="B"), False, "B"),
        (AnalysisRequest(exercise="plank", min_grade="B"), True, None),
        (AnalysisRequest(exercise="air_time_jump", min_grade="B"), False, None),
        (AnalysisRequest(source="image", min_grade="B"), False, None),
    ],
)
def test_effective_min_grade(request_: AnalysisRequest, is_duration: bool, expected: str | None) -> None:
    assert effective_min_grade(request_, is_duration) == expected


# --- display, unknown, repeats ------------------------------------------------------------------------------------


def test_display_parameters_are_recorded_under_their_documented_names() -> None:
    request = parse("width=300&HEIGHT=200&show_upload=false&uploadLabel=Upload%20a%20video&isMobile=true")
    assert request.display == {
        "width": "300",
        "height": "200",
        "showUpload": "false",
        "uploadLabel": "Upload a video",
        "isMobile": "true",
    }


def test_every_documented_display_parameter_is_accepted() -> None:
    request = parse({name: "1" for name in DISPLAY_PARAMS})
    assert request.display == {name: "1" for name in DISPLAY_PARAMS} and request.unknown == {}


def test_unknown_parameters_are_kept_sanitised_and_bounded() -> None:
    request = parse({"utm_source": "x" * 10_000, "evil": "a\x00b\u202e", **{f"p{i}": "v" for i in range(100)}})
    assert len(request.unknown) == MAX_UNKNOWN_PARAMS
    assert len(request.unknown["utm_source"]) == 512
    assert request.unknown["evil"] == "a\ufffdb\ufffd"


def test_empty_value_means_not_given() -> None:
    assert parse("isAndroid=&token=&exercise=&minGrade=") == AnalysisRequest()


def test_repeated_identical_security_values_collapse() -> None:
    assert parse("token=upt_a&token=upt_a").token == "upt_a"


@pytest.mark.parametrize(
    "query",
    [
        "token=upt_a&token=upt_b",
        "source=video&source=image",
        "exercise=squat&exercise=lunge",
        "reference=a&reference_movement=b",
        "videoSrc=https://a.example/v&videoSrc=https://b.example/v",
    ],
)
def test_conflicting_security_relevant_repeats_are_errors(query: str) -> None:
    error = error_of(query)
    assert error.code is ErrorCode.INVALID_PARAMS and "more than once" in error.message


def test_other_repeats_last_wins_including_aliases() -> None:
    request = parse("keypoints=true&keypoints=false&isAndroid=false&android=true&width=1&width=2")
    assert (request.keypoints, request.is_android, request.display["width"]) == (False, True, "2")


def test_mapping_with_multi_values_follows_the_same_rules() -> None:
    assert parse({"keypoints": ["true", "false"], "exercise": "squat"}).keypoints is False
    assert error_of({"token": ["upt_a", "upt_b"]}).code is ErrorCode.INVALID_PARAMS


def test_mapping_with_non_string_values_is_invalid_params() -> None:
    assert error_of({"keypoints": 1}).code is ErrorCode.INVALID_PARAMS
    assert error_of({1: "x"}).code is ErrorCode.INVALID_PARAMS


# --- hostile values -------------------------------------------------------------------------------------------------


def test_query_over_the_size_limit_is_rejected() -> None:
    assert error_of("a=" + "x" * MAX_QUERY_CHARS).code is ErrorCode.INVALID_PARAMS
    assert error_of({"a": "x" * MAX_QUERY_CHARS}).code is ErrorCode.INVALID_PARAMS


def test_too_many_parameters_are_rejected() -> None:
    assert error_of("&".join(f"p{i}=1" for i in range(500))).code is ErrorCode.INVALID_PARAMS


@pytest.mark.parametrize("token", ["a b", "x" * 257, "tok\u00e9n", "<script>", "a;b"])
def test_malformed_token_is_invalid_token(token: str) -> None:
    assert error_of({"token": token}).code is ErrorCode.INVALID_TOKEN


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "s3://bucket/key", "javascript:alert(1)", "https://", "http://[::1", "https://a b.example/"],
)
def test_media_urls_must_be_http(url: str) -> None:
    assert error_of({"videoSrc": url}).details == {"param": "videoSrc"}


def test_media_url_scheme_is_case_insensitive() -> None:
    assert parse({"videoSrc": "HTTPS://cdn.example/V.mp4"}).video_src == "HTTPS://cdn.example/V.mp4"


def test_overlong_media_url_is_rejected() -> None:
    assert error_of({"videoSrc": "https://x.example/" + "a" * 5000}).code is ErrorCode.INVALID_PARAMS


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "1e3", "0x10", "1_000", "", "12cm"])
def test_numbers_reject_nan_and_odd_spellings(value: str) -> None:
    if value:
        assert error_of({"userHeightCm": value}).details == {"param": "userHeightCm"}


@pytest.mark.parametrize(("name", "value"), [("userHeightCm", "20"), ("userHeightCm", "300"), ("devicePitchDeg", "91")])
def test_numbers_out_of_range_are_invalid_params(name: str, value: str) -> None:
    assert error_of({"exercise": "squat", name: value}).details == {"param": name}


def test_percent_encoded_unicode_in_unknown_values_is_safe() -> None:
    assert parse("label=%F0%9F%8F%8B%EF%B8%8F&bad=%ff").unknown == {"label": "🏋️", "bad": "\ufffd"}


def test_token_is_never_in_repr() -> None:
    assert "upt_secret" not in repr(parse("token=upt_secret"))


# --- round trip and properties ------------------------------------------------------------------------------------


def test_to_query_round_trip_of_a_full_request() -> None:
    request = parse(
        "token=upt_x&exercise=face_squat&minGrade=b&android=1&keypoints=true&skeleton=style-1&width=320"
        "&foo=bar%20baz&userExercise=u&userHeightCm=180"
    )
    assert parse(to_query(request)) == request


def test_to_query_round_trip_keeps_ignored_parameters() -> None:
    request = parse("source=image&exercise=squat&minGrade=a")
    assert parse(to_query(request)) == request


KNOWN_NAMES = [
    "token", "isAndroid", "android", "source", "videoSrc", "imageSrc", "exercise", "reference", "reference_movement",
    "scoring_profile", "difficulty", "minGrade", "skeleton", "keypoints", "angles", "progression", "recommendations",
    "blazepose", "poseBackend", "runInWorker", "poseEngine", "mediapipeModel", "engine", "export", "userHeightCm",
    "devicePitchDeg", "userExercise", "width", "timer",
]  # fmt: skip
PLAUSIBLE_VALUES = [
    "true", "false", "1", "video", "image", "squat", "face_pushup", "plank", "b", "A", "f", "nan", "hard", "normal",
    "wasm", "v4", "full", "180", "-5", "https://x.example/v.mp4", "kali", "upt_abc", "", "💥", "a" * 300,
]  # fmt: skip

names = st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=20))
values = st.one_of(st.sampled_from(PLAUSIBLE_VALUES), st.text(max_size=40))


def outcome(query: Any) -> AnalysisRequest | None:
    """Parse, asserting the only failure is a typed UptrackError; valid results must serialise and round-trip."""
    try:
        request = parse(query)
    except UptrackError as error:
        assert isinstance(error.code, ErrorCode) and error.message
        return None
    request.model_dump_json()
    assert parse(to_query(request)) == request
    return request


@settings(max_examples=400)
@given(st.text(max_size=300))
def test_any_text_gives_a_request_or_a_typed_error(query: str) -> None:
    outcome(query)


@settings(max_examples=400)
@given(st.lists(st.tuples(names, values), max_size=12).map(lambda pairs: "&".join(f"{n}={v}" for n, v in pairs)))
def test_any_query_shaped_text_gives_a_request_or_a_typed_error(query: str) -> None:
    outcome(query)


@settings(max_examples=400)
@given(st.dictionaries(names, st.one_of(values, st.lists(values, max_size=3)), max_size=12))
def test_any_mapping_gives_a_request_or_a_typed_error(query: dict[str, str | list[str]]) -> None:
    outcome(query)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_text_for_numbers_is_safe(number: float) -> None:
    request = outcome({"userHeightCm": repr(number)})
    if request is not None and request.user_height_cm is not None:
        assert math.isfinite(request.user_height_cm)


def test_model_rejects_out_of_contract_values_when_constructed_directly() -> None:
    with pytest.raises(ValidationError):
        AnalysisRequest(min_grade="F")
    with pytest.raises(ValidationError):
        AnalysisRequest(video_src="file:///etc/passwd")
