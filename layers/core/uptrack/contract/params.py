"""Query parameters of the upload endpoint (contract §2): one parser shared by the CLI, the local stack and Lambdas.

Mobile apps build PoseTracker URLs by hand, so parsing is deliberately forgiving about *names* (case, `_`/`-`,
documented aliases) and strict about *values* that change what is analysed, billed or fetched. Every failure is an
`UptrackError`; nothing else escapes `parse_query`, whatever the input.

Rules (each is tested in tests/unit/contract/test_params.py):

* A name matches when it equals a known name after lower-casing and dropping `_` and `-`
  (`minGrade` = `min_grade` = `MINGRADE`); `android` aliases `isAndroid`, `reference_movement` aliases `reference`.
* An empty value (`isAndroid=`) means "not given", because templating clients emit blanks for unset options.
* Repeats: identical values collapse; conflicting values of a security-relevant parameter (token, source, exercise,
  reference, videoSrc, imageSrc) are an `invalid_params` error; for every other parameter the last value wins.
* `exercise` with `reference` is an error carrying the vendor's message (video only: images ignore both).
* `source=image` never counts: video-only parameters are moved to `ignored`, as is `imageSrc` on a video.
* `minGrade` is ignored for duration exercises and for the custom jump exercises.
* `jump_analysis` needs `userHeightCm` (its cm-per-pixel calibration): without it, `jump_analysis_missing_height`.
  Exercise errors name the id as the client sent it (`jump`, not the `air_time_jump` it stands for).
* `engine=v4` grades with V4's bands (E between D and F); the V4-only ids run on V4 whatever `engine` says.
* Compatibility parameters (`isAndroid`, `poseBackend`, `runInWorker`, `poseEngine`, `engine`) never fail: a
  malformed value is recorded in `rejected`, the default runs, and the pipeline sends an `ignored_param` warning.
* Display/layout parameters are recorded in `display`; anything unrecognised goes to `unknown` (both sanitised and
  truncated, for logging only). `userExercise` is real-time only and always ignored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.grades import MIN_GRADES, MinGrade

Source = Literal["video", "image"]
Difficulty = Literal["easy", "medium", "hard"]
ScoringProfile = Literal["default", "kali", "kali-analysis"]
PoseBackend = Literal["webgl", "wasm"]
MediapipeModel = Literal["lite", "full", "heavy"]
Engine = Literal["v3", "v4"]

MAX_QUERY_CHARS: Final = 16_384
MAX_PARAMS: Final = 200
MAX_RECORDED_CHARS: Final = 512
MAX_UNKNOWN_PARAMS: Final = 32
MAX_URL_CHARS: Final = 4_096

_TOKEN_RE: Final = r"^[A-Za-z0-9._~-]{1,256}$"
_ID_RE: Final = r"^[A-Za-z0-9_-]{1,128}$"
_EXERCISE_RE: Final = r"^[a-z0-9_]{1,64}$"
_SLUG_RE: Final = r"^[a-z0-9_-]{1,32}$"

Token = Annotated[str, StringConstraints(pattern=_TOKEN_RE)]
OpaqueId = Annotated[str, StringConstraints(pattern=_ID_RE)]
ExerciseId = Annotated[str, StringConstraints(pattern=_EXERCISE_RE)]
Slug = Annotated[str, StringConstraints(pattern=_SLUG_RE)]
HttpUrl = Annotated[str, StringConstraints(max_length=MAX_URL_CHARS, pattern=r"(?i)^https?://[^\s]+$")]

COMBINE_REFERENCE_MESSAGE: Final = "You cannot combine reference & exercise. Please check the documentation."

EXERCISE_ALIASES: Final[Mapping[str, str]] = {
    "face_squat": "squat",
    "face_pushup": "push_up",
    "face_plank": "plank",
    "face_lunge": "lunge",
    "face_jumping_jack": "jumping_jack",
    "face_low_impact_jack": "low_impact_jack",
    "face_balance_leg": "balance_leg",
    "face_balance_leg_left": "balance_leg_left",
    "face_balance_leg_right": "balance_leg_right",
    "side_squat": "squat",
    "side_pushup": "push_up",
    "jump": "air_time_jump",
    "pushup": "push_up",
    "situp": "sit_up",
    "pullup": "pull_up",
}
"""Legacy (`face_*`, Pixel `side_*`, `jump`) and common spellings, resolved before the catalogue lookup."""

UNGRADED_EXERCISES: Final = frozenset({"jump_analysis", "air_time_jump"})
"""Custom jump exercises: they report heights, not graded reps, so `minGrade` never applies."""

HEIGHT_CALIBRATED_EXERCISES: Final = frozenset({"jump_analysis"})
"""Exercises whose measurement is calibrated by the user's height: `userHeightCm` is required."""

V4_ONLY_EXERCISES: Final = frozenset({"shoulder_roll", "shoulder_deep_breath", "chair_forward_fold"})
"""Ids PoseTracker only runs on its V4 engine (§2.2); the physical test needs V4 too (§4.1)."""

PHYSICAL_TESTS: Final = frozenset({"back_flexibility_test"})
"""Physical tests: one measured repetition whose `counter` carries an `analysis` block (V4)."""

DISPLAY_PARAMS: Final = (
    "showUpload", "width", "height", "containerMinHeight", "containerMaxWidth", "containerMaxHeight", "objectFit",
    "uploadButtonPosition", "uploadAreaPadding", "uploadLabel", "isMobile", "loading_message", "postureBox",
    "placement", "placementCountdownSeconds", "placementOverlay", "placementZoneColor", "placementOverlayOpacity",
    "placementImageOpacity", "placementBoxStrokeColor", "placementZone", "placementOverlayImageUrl", "silhouette",
    "silhouetteColor", "silhouetteShadow", "timer", "timerSeconds", "timerBg", "timerColor", "timerBorder", "guide",
    "engineDebug", "paddingHorizontal", "paddingVertical", "paddingLeft", "paddingRight", "paddingTop",
    "paddingBottom",
)  # fmt: skip
"""Layout parameters (§2.5): no effect on analysis, recorded so the hosted page can honour them."""

IGNORED_PARAMS: Final = ("userExercise",)
"""Real-time-only parameters the upload endpoint accepts and ignores (§2.2)."""


def _combine_error() -> UptrackError:
    return UptrackError(ErrorCode.INVALID_PARAMS, COMBINE_REFERENCE_MESSAGE, {"params": ["exercise", "reference"]})


class AnalysisRequest(BaseModel):
    """One upload analysis request, normalised. Python names are snake_case; aliases are the query names.

    Constructing it directly enforces the same invariants as `parse_query` except the catalogue lookup: a video
    request with both `exercise` and `reference` raises `UptrackError` (invalid_params), not `ValidationError`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)

    token: Token | None = Field(default=None, repr=False, description="API key; never logged (repr=False).")
    is_android: bool = Field(default=False, alias="isAndroid", description="Running inside an Android WebView.")
    source: Source = Field(default="video", description="Upload mode.")
    video_src: HttpUrl | None = Field(default=None, alias="videoSrc", description="Remote video (http/https).")
    image_src: HttpUrl | None = Field(default=None, alias="imageSrc", description="Remote image (http/https).")
    exercise: ExerciseId | None = Field(default=None, description="Canonical catalogue id, aliases resolved.")
    reference: OpaqueId | None = Field(default=None, description="Reference movement id (UUID).")
    scoring_profile: ScoringProfile | None = Field(default=None, description="Reference scoring variant.")
    difficulty: Difficulty = Field(default="medium", description="Acceptance strictness; normal→medium, pro→hard.")
    min_grade: MinGrade | None = Field(default=None, alias="minGrade", description="Only reps this good count.")
    skeleton: bool | OpaqueId = Field(default=True, description="Draw the skeleton, or a skeleton style id.")
    keypoints: bool = False
    angles: bool = False
    progression: bool = False
    recommendations: bool = False
    blazepose: bool = False
    pose_backend: PoseBackend = Field(default="webgl", alias="poseBackend")
    run_in_worker: bool = Field(default=True, alias="runInWorker")
    pose_engine: Slug = Field(default="tfjs", alias="poseEngine")
    mediapipe_model: MediapipeModel = Field(default="lite", alias="mediapipeModel")
    engine: Engine = "v3"
    export: bool = False
    user_height_cm: float | None = Field(default=None, alias="userHeightCm", ge=50, le=272, allow_inf_nan=False)
    device_pitch_deg: float | None = Field(default=None, alias="devicePitchDeg", ge=-90, le=90, allow_inf_nan=False)
    display: dict[str, str] = Field(default_factory=dict, description="Recorded display/layout parameters.")
    ignored: dict[str, str] = Field(default_factory=dict, description="Known parameters that do not apply here.")
    unknown: dict[str, str] = Field(default_factory=dict, description="Unrecognised parameters, for logging only.")
    rejected: dict[str, str] = Field(
        default_factory=dict,
        description="Malformed values of compatibility parameters (isAndroid, poseBackend, runInWorker, poseEngine, "
        "engine): the default ran instead, and a `warning` (ignored_param) says so.",
    )

    @model_validator(mode="after")
    def _check_rules(self) -> AnalysisRequest:
        """Enforce the one cross-field error rule and the reference scoring default (§2.2)."""
        if self.source == "video" and self.exercise is not None and self.reference is not None:
            raise _combine_error()
        if self.reference is not None and self.scoring_profile is None:
            object.__setattr__(self, "scoring_profile", "kali-analysis")
        return self


@dataclass(frozen=True)
class _Param:
    """How one query parameter maps onto `AnalysisRequest`."""

    name: str
    field: str
    convert: Callable[[str, str], object]
    aliases: tuple[str, ...] = ()
    security: bool = False
    video_only: bool = False
    image_only: bool = False
    lenient: bool = False
    """A compatibility parameter: a malformed value is recorded in `rejected` and the default runs instead."""


def _invalid(param: str, message: str, code: ErrorCode = ErrorCode.INVALID_PARAMS) -> UptrackError:
    """A typed parameter error; the offending name travels in details for the client to highlight."""
    return UptrackError(code, message, {"param": param})


_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off"})


def _to_bool(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    raise _invalid(name, f"{name} must be true or false.")


def _matching(pattern: str, code: ErrorCode = ErrorCode.INVALID_PARAMS) -> Callable[[str, str], str]:
    """A converter that keeps the value when it fully matches `pattern` (case-sensitive ids, tokens)."""
    compiled = re.compile(pattern)

    def convert(name: str, value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise _invalid(name, f"{name} is malformed.", code)
        return value

    return convert


def _choice(*allowed: str, legacy: Mapping[str, str] | None = None) -> Callable[[str, str], str]:
    """A case-insensitive enum converter; `legacy` maps old spellings onto current ones."""

    def convert(name: str, value: str) -> str:
        lowered = value.lower()
        lowered = (legacy or {}).get(lowered, lowered)
        if lowered not in allowed:
            raise _invalid(name, f"{name} must be one of {', '.join(allowed)}.")
        return lowered

    return convert


def _to_min_grade(name: str, value: str) -> str:
    if value.upper() not in MIN_GRADES:
        raise _invalid(name, f"{name} must be one of {', '.join(MIN_GRADES)} (case-insensitive).")
    return value.upper()


def _to_skeleton(name: str, value: str) -> bool | str:
    if value.lower() in _TRUE | _FALSE:
        return _to_bool(name, value)
    return _matching(_ID_RE)(name, value)


def _to_url(name: str, value: str) -> str:
    """Only absolute http(s) URLs: other schemes (file:, s3:) would let a caller read what the worker can read.
    The port is parsed here too (`:99999`, `:abc`, `:-1` are refused), not left to fail after the upload is charged."""
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError as exc:
        raise _invalid(name, f"{name} is not a valid URL.") from exc
    if len(value) > MAX_URL_CHARS or parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid(name, f"{name} must be an http(s) URL of at most {MAX_URL_CHARS} characters.")
    return _matching(r"[^\s]+")(name, value)


_NUMBER_RE: Final = re.compile(r"[+-]?(?:\d{1,6}(?:\.\d{0,6})?|\.\d{1,6})")


def _to_number(name: str, value: str) -> float:
    if _NUMBER_RE.fullmatch(value) is None:
        raise _invalid(name, f"{name} must be a decimal number.")
    return float(value)


def _to_exercise(name: str, value: str) -> str:
    """Lower-case and resolve aliases; the catalogue check happens later, once the source is known."""
    slug = value.lower().replace("-", "_").replace(" ", "_")
    if re.fullmatch(_EXERCISE_RE, slug) is None:
        raise UptrackError(ErrorCode.INVALID_EXERCISE, "Unknown exercise.", {"exercise": _safe_text(value)[:64]})
    return EXERCISE_ALIASES.get(slug, slug)


_PARAMS: Final = (
    _Param("token", "token", _matching(_TOKEN_RE, ErrorCode.INVALID_TOKEN), security=True),
    _Param("isAndroid", "is_android", _to_bool, aliases=("android",), lenient=True),
    _SOURCE := _Param("source", "source", _choice("video", "image"), security=True),
    _Param("videoSrc", "video_src", _to_url, security=True, video_only=True),
    _Param("imageSrc", "image_src", _to_url, security=True, image_only=True),
    _Param("exercise", "exercise", _to_exercise, security=True, video_only=True),
    _Param("reference", "reference", _matching(_ID_RE), aliases=("reference_movement",), security=True,
           video_only=True),
    _Param("scoring_profile", "scoring_profile", _choice("default", "kali", "kali-analysis",
           legacy={"kali_analysis": "kali-analysis"}), video_only=True),
    _Param("difficulty", "difficulty", _choice("easy", "medium", "hard", legacy={"normal": "medium", "pro": "hard"}),
           video_only=True),
    _Param("minGrade", "min_grade", _to_min_grade, video_only=True),
    _Param("skeleton", "skeleton", _to_skeleton),
    _Param("keypoints", "keypoints", _to_bool),
    _Param("angles", "angles", _to_bool),
    _Param("progression", "progression", _to_bool, video_only=True),
    _Param("recommendations", "recommendations", _to_bool, video_only=True),
    _Param("blazepose", "blazepose", _to_bool),
    _Param("poseBackend", "pose_backend", _choice("webgl", "wasm"), lenient=True),
    _Param("runInWorker", "run_in_worker", _to_bool, lenient=True),
    _Param("poseEngine", "pose_engine", _matching(_SLUG_RE), lenient=True),
    _Param("mediapipeModel", "mediapipe_model", _choice("lite", "full", "heavy")),
    _Param("engine", "engine", _choice("v3", "v4"), lenient=True),
    _Param("export", "export", _to_bool, video_only=True),
    _Param("userHeightCm", "user_height_cm", _to_number, video_only=True),
    _Param("devicePitchDeg", "device_pitch_deg", _to_number, video_only=True),
)  # fmt: skip
"""Every analysis parameter, in the order `to_query` writes them."""


def _key(name: str) -> str:
    """Name-matching key: case, `_` and `-` do not matter (`minGrade` = `min_grade`)."""
    return name.lower().replace("_", "").replace("-", "")


_BY_FIELD: Final[Mapping[str, str]] = {p.field: p.name for p in _PARAMS}
_BY_KEY: Final[Mapping[str, _Param]] = {_key(n): p for p in _PARAMS for n in (p.name, p.field, *p.aliases)}
_DISPLAY_BY_KEY: Final[Mapping[str, str]] = {_key(n): n for n in DISPLAY_PARAMS}
_IGNORED_BY_KEY: Final[Mapping[str, str]] = {_key(n): n for n in IGNORED_PARAMS}


def _safe_text(text: str) -> str:
    """Printable, bounded text for values we only record: no control characters, surrogates or megabyte logs."""
    cleaned = "".join(ch if ch.isprintable() else "\ufffd" for ch in text[:MAX_RECORDED_CHARS])
    return cleaned.strip()


def _pairs(query: str | Mapping[str, str | Sequence[str]]) -> list[tuple[str, str]]:
    """Flatten a raw query string or an API-Gateway-style mapping into ordered (name, value) pairs."""
    if isinstance(query, str):
        if len(query) > MAX_QUERY_CHARS:
            raise UptrackError(ErrorCode.INVALID_PARAMS, f"Query longer than {MAX_QUERY_CHARS} characters.")
        try:
            return parse_qsl(query.removeprefix("?"), keep_blank_values=True, max_num_fields=MAX_PARAMS)
        except ValueError as exc:
            raise UptrackError(ErrorCode.INVALID_PARAMS, f"Query has more than {MAX_PARAMS} parameters.") from exc
    pairs = [(name, value) for name, values in query.items() for value in _values(name, values)]
    if len(pairs) > MAX_PARAMS or sum(len(n) + len(v) for n, v in pairs) > MAX_QUERY_CHARS:
        raise UptrackError(ErrorCode.INVALID_PARAMS, "Query too large.")
    return pairs


def _values(name: object, values: object) -> list[str]:
    if not isinstance(name, str):
        raise UptrackError(ErrorCode.INVALID_PARAMS, "Parameter names must be strings.")
    if isinstance(values, str):
        return [values]
    if isinstance(values, Sequence) and all(isinstance(v, str) for v in values):
        return list(values)
    raise _invalid(_safe_text(name)[:64], "Parameter values must be strings.")


def _resolve(param: _Param, values: list[str]) -> str:
    """Apply the repeat rule: conflicting security-relevant values are an error, otherwise the last one wins."""
    if param.security and len(set(values)) > 1:
        raise _invalid(param.name, f"{param.name} is given more than once with different values.")
    return values[-1]


@dataclass
class _Collected:
    known: dict[str, list[str]]
    display: dict[str, str]
    ignored: dict[str, str]
    unknown: dict[str, str]


def _collect(pairs: list[tuple[str, str]]) -> _Collected:
    """Sort pairs into known parameters (all values kept for the repeat rule), display, ignored and unknown."""
    found = _Collected({}, {}, {}, {})
    for raw_name, raw_value in pairs:
        name, value = raw_name.strip(), raw_value.strip()
        if not value:
            continue
        key = _key(name)
        if key in _BY_KEY:
            found.known.setdefault(_BY_KEY[key].name, []).append(value)
        elif key in _DISPLAY_BY_KEY:
            found.display[_DISPLAY_BY_KEY[key]] = _safe_text(value)
        elif key in _IGNORED_BY_KEY:
            found.ignored[_IGNORED_BY_KEY[key]] = _safe_text(value)
        elif len(found.unknown) < MAX_UNKNOWN_PARAMS and (safe_name := _safe_text(name)[:64]):
            found.unknown[safe_name] = _safe_text(value)
    return found


def _is_ignored(param: _Param, source: str) -> bool:
    return (param.video_only and source == "image") or (param.image_only and source == "video")


def parse_query(
    query: str | Mapping[str, str | Sequence[str]],
    *,
    exercise_ids: Collection[str],
    duration_exercise_ids: Collection[str] = (),
) -> AnalysisRequest:
    """Parse a raw query string (leading `?` optional) or a name→value(s) mapping into an `AnalysisRequest`.

    `exercise_ids` is the real catalogue, so validation never drifts from what the engine can run;
    `duration_exercise_ids` lists hold exercises, for which `minGrade` is ignored. Raises `UptrackError` only.
    """
    found = _collect(_pairs(query))
    rejected: dict[str, str] = {}
    source = str(_SOURCE.convert(_SOURCE.name, _resolve(_SOURCE, found.known.pop(_SOURCE.name, ["video"]))))
    fields: dict[str, Any] = {"source": source}
    for param in _PARAMS:
        if param.name not in found.known:
            continue
        value = _resolve(param, found.known[param.name])
        if _is_ignored(param, source):
            found.ignored[param.name] = _safe_text(value)
        else:
            _convert(param, value, fields, rejected)
    sent = _safe_text(found.known["exercise"][-1])[:64] if "exercise" in found.known else ""
    _check_exercise(fields, found.ignored, exercise_ids, duration_exercise_ids, sent)
    try:
        request = AnalysisRequest(
            **fields, display=found.display, ignored=found.ignored, unknown=found.unknown, rejected=rejected
        )
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        name = _BY_FIELD.get(field, field)
        raise _invalid(name, f"{name} is out of range or malformed.") from None
    if request.exercise in HEIGHT_CALIBRATED_EXERCISES and request.user_height_cm is None:
        raise UptrackError(
            ErrorCode.JUMP_ANALYSIS_MISSING_HEIGHT,
            f"{sent} needs userHeightCm (the jumper's height in cm) to turn pixels into centimetres.",
            {"exercise": sent, "param": "userHeightCm"},
        )
    return request


def _convert(param: _Param, value: str, fields: dict[str, Any], rejected: dict[str, str]) -> None:
    """Set `param`'s field from `value`. PoseTracker documents no failure for its compatibility parameters (a
    WebView flag, a browser backend, an engine switch), so a malformed one must not cost the analysis: it is
    recorded in `rejected` and the default runs. Any other malformed value is an `invalid_params` error."""
    try:
        fields[param.field] = param.convert(param.name, value)
    except UptrackError:
        if not param.lenient:
            raise
        rejected[param.name] = _safe_text(value)


def _check_exercise(
    fields: dict[str, Any],
    ignored: dict[str, str],
    exercise_ids: Collection[str],
    duration_ids: Collection[str],
    sent: str,
) -> None:
    """Reference/exercise exclusivity, catalogue membership (the error names the id `sent`), then the `minGrade`
    rule for holds and jumps."""
    exercise = fields.get("exercise")
    if exercise is None:
        return
    if fields.get("reference") is not None:
        raise _combine_error()
    if exercise not in exercise_ids:
        details = {"exercise": sent, "suggestions": exercise_suggestions(exercise, exercise_ids)}
        raise UptrackError(ErrorCode.INVALID_EXERCISE, f"Unknown exercise: {sent}", details)
    if "min_grade" in fields and (exercise in duration_ids or exercise in UNGRADED_EXERCISES):
        ignored["minGrade"] = str(fields.pop("min_grade"))


def uses_v4(request: AnalysisRequest) -> bool:
    """Whether this request is graded by V4 (E band, no recommendations): asked for, or a V4-only exercise."""
    return request.engine == "v4" or request.exercise in V4_ONLY_EXERCISES | PHYSICAL_TESTS


def exercise_suggestions(value: str, exercise_ids: Collection[str], limit: int = 3) -> list[str]:
    """Catalogue ids close to a mistyped one (`squats` -> `squat`), aliases included, so an error can say what
    was probably meant instead of only what was wrong."""
    spellings = {i: i for i in sorted(exercise_ids)} | {a: i for a, i in EXERCISE_ALIASES.items() if i in exercise_ids}
    close = difflib.get_close_matches(value, spellings, n=limit * 2, cutoff=0.6)
    words = [s for s in spellings if len(value) >= 3 and value in s.split("_")]  # `curl` -> the curls
    return list(dict.fromkeys(spellings[c] for c in [*close, *words]))[:limit]


def effective_min_grade(request: AnalysisRequest, is_duration: bool) -> MinGrade | None:
    """The bar reps must clear, or None: images, holds and jump exercises never filter reps (§2.3)."""
    if request.source == "image" or is_duration or request.exercise in UNGRADED_EXERCISES:
        return None
    return request.min_grade


def to_query(request: AnalysisRequest) -> str:
    """Serialise back to a query string such that `parse_query(to_query(r)) == r` for the same catalogue."""
    pairs: list[tuple[str, str]] = []
    defaults = AnalysisRequest()
    for param in _PARAMS:
        value = getattr(request, param.field)
        if value != getattr(defaults, param.field):
            pairs.append((param.name, _format(value)))
    for recorded in (request.display, request.ignored, request.unknown, request.rejected):
        pairs.extend(sorted(recorded.items()))
    return urlencode(pairs, quote_via=quote)


def _format(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
