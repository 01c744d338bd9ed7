"""Messages uptrack emits (contract §3): one pydantic model per `type`, serialised exactly as PoseTracker clients read.

Where the contract's sources disagree we emit every spelling a client might read, and accept any of them:

* `error` and `warning` carry the code under both `code` (GitBook) and `error` (newer docs, SDK mirror);
* `keypoints` carries the array under both `data` (newer docs, SDK) and `keypoints` (GitBook);
* `recommendations` carries `data: [str]` (newer docs, SDK) and `message: str` (vendor prompt);
* `image_overlay` carries its data URL under `data` and `url` (undocumented upstream);
* `counter.reference_score` has both sub-score families (`poseScore`/`movementScore` and
  `nccScore`/`dtwScore`/`distScore`).

Jump messages (§3.17) use camelCase wire names, as PoseTracker's do; a physical test's `counter.analysis` (§3.6)
is typed too. Python attribute names are snake_case; the aliases are the wire names. Always serialise with
`dump_message`.
Every message may carry `timestampMs` (video time in ms it refers to), `seq` (per-upload sequence number the
pipeline sets so clients can de-duplicate retried deliveries) and `uploadId`. `progress` is uptrack's own.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from uptrack.contract.errors import UptrackError
from uptrack.contract.grades import Grade, grade_for

Score100 = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class _Wire(BaseModel):
    """Shared config: reject unknown fields (our output is the contract), accept both python names and aliases."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True)


class BaseMessage(_Wire):
    """Fields every message may carry; all optional so vendor-shaped messages stay valid."""

    timestamp_ms: NonNegativeInt | None = Field(default=None, alias="timestampMs")
    seq: NonNegativeInt | None = None
    upload_id: str | None = Field(default=None, alias="uploadId")


class InitializationMessage(BaseMessage):
    """Loading state; `ready` becomes true once analysis can run (§3.2)."""

    type: Literal["initialization"] = "initialization"
    message: str
    ready: bool = False
    source: Literal["video", "image"] | None = None


class EnvironmentMessage(BaseMessage):
    """Backend report (§3.3). `poseBackend` echoes the requested backend; `runtime` names what really ran."""

    type: Literal["environment"] = "environment"
    pose_backend: Literal["webgl", "wasm"] = Field(default="webgl", alias="poseBackend")
    webgl: bool = True
    runtime: str | None = None


class ErrorMessage(BaseMessage):
    """A failure (§3.4). `code` and `error` always hold the same value; a message with only one is completed."""

    type: Literal["error"] = "error"
    code: str
    error: str
    message: str
    details: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _both_code_keys(cls, data: Any) -> Any:
        return _mirror(data, "code", "error")

    @classmethod
    def from_error(cls, exc: UptrackError, **base: Any) -> Self:
        """The one `error` message for a typed failure; empty details are left out."""
        return cls(code=exc.code, error=exc.code, message=exc.message, details=exc.details or None, **base)


class WarningMessage(BaseMessage):
    """A non-fatal notice such as `quality_downgraded` (§3.18); code mirrored like `error`."""

    type: Literal["warning"] = "warning"
    error: str
    code: str
    message: str

    @model_validator(mode="before")
    @classmethod
    def _both_code_keys(cls, data: Any) -> Any:
        return _mirror(data, "code", "error")

    @classmethod
    def of(cls, code: str, message: str, **base: Any) -> Self:
        return cls(code=code, error=code, message=message, **base)


class PostureMessage(BaseMessage):
    """Placement feedback until the body is in position (§3.5)."""

    type: Literal["posture"] = "posture"
    message: str
    direction: str = "in-frame"
    ready: bool = False
    requirements: list[str] = Field(default_factory=list)


class CriterionScore(_Wire):
    """uptrack's own: one form criterion measured on a rep (0–100) and its `bar`, below which it is a fault."""

    name: str
    label: str
    score: Score100
    bar: Score100


class FormScore(_Wire):
    """Grade of a counted rep (0–100 scores): the authoritative grade lives in `counter.form_score`.

    uptrack adds why: `criteria`, every criterion measured on the rep, and `failed_criterion`, the name of the
    lowest-scoring one below its bar (absent when none is), so an app or a plot can say what cost a rep its grade.
    """

    score: Score100
    avg_score: Score100
    grade: Grade
    criteria: list[CriterionScore] | None = None
    failed_criterion: str | None = None

    @classmethod
    def of(
        cls,
        score: float,
        avg_score: float,
        criteria: Sequence[CriterionScore] | None = None,
        failed_criterion: str | None = None,
    ) -> Self:
        """Scores rounded to one decimal; the grade follows the rep's own score."""
        return cls(
            score=round(score, 1),
            avg_score=round(avg_score, 1),
            grade=grade_for(score),
            criteria=list(criteria) if criteria is not None else None,
            failed_criterion=failed_criterion,
        )


class ReferenceScore(_Wire):
    """Similarity of one rep to a reference movement (§3.7), 0..1; both sub-score families, each optional."""

    overall_score: Unit = Field(alias="overallScore")
    grade: Grade
    pose_score: Unit | None = Field(default=None, alias="poseScore")
    timing_score: Unit | None = Field(default=None, alias="timingScore")
    movement_score: Unit | None = Field(default=None, alias="movementScore")
    ncc_score: Unit | None = Field(default=None, alias="nccScore")
    dtw_score: Unit | None = Field(default=None, alias="dtwScore")
    dist_score: Unit | None = Field(default=None, alias="distScore")


class CameraPlacement(_Wire):
    """Where the camera stood for a physical test, and which way that biases the measured angles."""

    placement: Literal["ground", "mid", "high"]
    bias: Literal["none", "overestimate", "underestimate", "unknown"]
    ratio: Finite | None = None


class Interpretation(_Wire):
    """A physical test's result in words (§3.6)."""

    tone: Literal["strong", "partial", "limited"]
    title: str
    text: str


class PhysicalTestAnalysis(_Wire):
    """`counter.analysis` of a physical test such as `back_flexibility_test` (§3.6): the measured peaks (degrees),
    the camera placement, how it was measured and what it means."""

    peaks: dict[str, Finite]
    camera: CameraPlacement
    disclaimer: str
    method: str
    interpretation: Interpretation
    opinion: bool


class CounterMessage(BaseMessage):
    """Count changed (reps, or seconds for holds); `final` marks the last one of an upload (§3.6)."""

    type: Literal["counter"] = "counter"
    current_count: NonNegativeInt
    final: bool | None = None
    form_score: FormScore | None = None
    reference_score: ReferenceScore | None = None
    analysis: PhysicalTestAnalysis | None = None


class FormScoreMessage(BaseMessage):
    """Convenience copy of a rep's form score (§3.8), criteria included; never sent for reps below `minGrade`."""

    type: Literal["form_score"] = "form_score"
    score: Score100
    avg_score: Score100
    grade: Grade
    criteria: list[CriterionScore] | None = None
    failed_criterion: str | None = None

    @classmethod
    def of(cls, form: FormScore, **base: Any) -> Self:
        return cls(**form.model_dump(), **base)


class ProgressionMessage(BaseMessage):
    """How far the current rep or hold has progressed, 0–100 (§3.9)."""

    type: Literal["progression"] = "progression"
    value: Score100


class RecommendationsMessage(BaseMessage):
    """Form cues (§3.10): the list under `data`, the same cues joined by spaces under `message`."""

    type: Literal["recommendations"] = "recommendations"
    data: list[str]
    message: str

    @model_validator(mode="before")
    @classmethod
    def _both_forms(cls, data: Any) -> Any:
        if isinstance(data, dict) and "data" not in data and isinstance(data.get("message"), str):
            return {**data, "data": [data["message"]]}
        if isinstance(data, dict) and "message" not in data and isinstance(data.get("data"), list):
            return {**data, "message": " ".join(str(cue) for cue in data["data"])}
        return data

    @classmethod
    def of(cls, cues: Sequence[str], **base: Any) -> Self:
        return cls(data=list(cues), message=" ".join(cues), **base)


class Keypoint(_Wire):
    """One landmark: x, y normalised to the frame (may stray slightly outside 0..1), score 0..1 (§6.1)."""

    name: str
    x: Finite
    y: Finite
    z: Finite | None = None
    score: Unit


def mean_score(keypoints: Sequence[Keypoint]) -> float:
    """Pose-level score: mean keypoint confidence (§6.1); 0 for an empty pose."""
    return math.fsum(k.score for k in keypoints) / len(keypoints) if keypoints else 0.0


class KeypointsMessage(BaseMessage):
    """One pose (§3.11); the array goes under both `data` and `keypoints`."""

    type: Literal["keypoints"] = "keypoints"
    data: list[Keypoint]
    keypoints: list[Keypoint]
    frame_id: NonNegativeInt | None = Field(default=None, alias="frameId")
    score: Unit | None = None

    @model_validator(mode="before")
    @classmethod
    def _both_arrays(cls, data: Any) -> Any:
        return _mirror(data, "data", "keypoints")

    @classmethod
    def of(cls, keypoints: Sequence[Keypoint], frame_id: int | None = None, **base: Any) -> Self:
        points = list(keypoints)
        return cls(data=points, keypoints=points, frame_id=frame_id, score=round(mean_score(points), 4), **base)


class KeypointsFrame(_Wire):
    """One frame of `keypoints_batch`."""

    timestamp_ms: NonNegativeInt = Field(alias="timestampMs")
    frame_id: NonNegativeInt = Field(alias="frameId")
    keypoints: list[Keypoint]
    score: Unit | None = None


class KeypointsBatchMessage(BaseMessage):
    """Every analysed frame's pose, sent once at the end of a video (§3.13; shape is ours, upstream undocumented)."""

    type: Literal["keypoints_batch"] = "keypoints_batch"
    data: list[KeypointsFrame]


class KneeAngle(_Wire):
    from_hip_to_ankle: Finite
    score_from_hip_to_ankle: Unit


class HipAngle(_Wire):
    from_knee_to_shoulder: Finite
    score_from_knee_to_shoulder: Unit


class ShoulderAngle(_Wire):
    from_hip_to_elbow: Finite
    score_from_hip_to_elbow: Unit


class ElbowAngle(_Wire):
    from_shoulder_to_wrist: Finite
    score_from_shoulder_to_wrist: Unit


class SideAngles(_Wire):
    """Angles of one side in degrees; an angle whose keypoints were not seen is left out."""

    knee_angle: KneeAngle | None = None
    hip_angle: HipAngle | None = None
    shoulder_angle: ShoulderAngle | None = None
    elbow_angle: ElbowAngle | None = None


class AnglesData(_Wire):
    left_side: SideAngles = Field(default_factory=SideAngles)
    right_side: SideAngles = Field(default_factory=SideAngles)


ANGLE_IDS: Final[Mapping[str, tuple[str, str]]] = {
    "knee": ("knee_angle", "from_hip_to_ankle"),
    "hip": ("hip_angle", "from_knee_to_shoulder"),
    "shoulder": ("shoulder_angle", "from_hip_to_elbow"),
    "elbow": ("elbow_angle", "from_shoulder_to_wrist"),
}
"""Joint → (classic key, relation) of the WebView V3 angle tree (§6.3)."""


class AnglesMessage(BaseMessage):
    """Joint angles in the classic `left_side`/`right_side` tree (§3.12)."""

    type: Literal["angles"] = "angles"
    data: AnglesData

    @classmethod
    def of(cls, angles: Mapping[str, tuple[float, float]], **base: Any) -> Self:
        """Build from typed ids (`left_knee`, `right_elbow`, …) → (degrees, score); unknown ids raise ValueError."""
        tree: dict[str, dict[str, dict[str, float]]] = {"left_side": {}, "right_side": {}}
        for angle_id, (degrees, score) in angles.items():
            side, _, joint = angle_id.partition("_")
            if side not in ("left", "right") or joint not in ANGLE_IDS:
                raise ValueError(f"unknown angle id: {angle_id}")
            key, relation = ANGLE_IDS[joint]
            tree[f"{side}_side"][key] = {relation: degrees, f"score_{relation}": score}
        return cls(data=AnglesData.model_validate(tree), **base)


class RepSummary(_Wire):
    """One rep in `exercise_summary.history`: SDK-mirror names (`index`, `formScore`, `durationMs`) plus flat
    `score`/`grade` and the rep's span in video time (`startMs`, `endMs`)."""

    index: NonNegativeInt
    score: Score100
    grade: Grade
    form_score: FormScore | None = Field(default=None, alias="formScore")
    start_ms: NonNegativeInt = Field(alias="startMs")
    end_ms: NonNegativeInt = Field(alias="endMs")
    duration_ms: NonNegativeInt = Field(alias="durationMs")
    reference_score: ReferenceScore | None = Field(default=None, alias="referenceScore")
    analysis: PhysicalTestAnalysis | None = None


class ExerciseSummaryMessage(BaseMessage):
    """End-of-video summary (§3.14). `counter` counts only reps that cleared `minGrade`; `avg_rep_score` is on the
    0–100 form scale, `avg_similarity` on the 0..1 reference scale. Physical tests add `disclaimer`, `method` and
    each test's `history[].analysis`."""

    type: Literal["exercise_summary"] = "exercise_summary"
    exercise: str | None = None
    reference: str | None = None
    counter: NonNegativeInt
    avg_rep_score: Score100 | None = None
    avg_similarity: Unit | None = None
    grade: Grade | None = None
    total_frames_compared: NonNegativeInt | None = None
    duration_ms: NonNegativeInt | None = Field(default=None, alias="durationMs")
    history: list[RepSummary] = Field(default_factory=list)
    disclaimer: str | None = None
    method: str | None = None


class VisibleHips(_Wire):
    """Which hip keypoints were seen (jump calibration and measurement)."""

    left: bool
    right: bool


class JumpCalibrationMessage(BaseMessage):
    """`jump_analysis` only: the standing person gave the pixel scale (§3.17). `baselineY` is the standing hip
    height in pixels; `devicePitchDeg` echoes the tilt the calibration accounts for."""

    type: Literal["jump_calibration"] = "jump_calibration"
    calibrated: bool = True
    cm_per_pixel: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(alias="cmPerPixel")
    baseline_y: Finite = Field(alias="baselineY")
    visible_hips: VisibleHips = Field(alias="visibleHips")
    device_pitch_deg: Finite | None = Field(default=None, alias="devicePitchDeg")
    message: str = "Calibration complete - ready to jump"


class JumpStartedMessage(BaseMessage):
    """Both feet left the ground (§3.17)."""

    type: Literal["jump_started"] = "jump_started"
    message: str = "Jump detected - measuring height"


class JumpHeightMessage(BaseMessage):
    """Height while measuring (at the top of the flight) and once landed (`final`), with how it was measured:
    hip heights in pixels (`baselineY` at take-off, `minY` at the top), air time (§3.17)."""

    type: Literal["jump_height"] = "jump_height"
    jump_height_cm: NonNegative = Field(alias="jumpHeightCm")
    measuring: bool
    landed: bool
    final: bool | None = None
    baseline_y: Finite | None = Field(default=None, alias="baselineY")
    min_y: Finite | None = Field(default=None, alias="minY")
    delta_pixels: Finite | None = Field(default=None, alias="deltaPixels")
    side_used: str | None = Field(default=None, alias="sideUsed")
    air_time_ms: NonNegativeInt | None = Field(default=None, alias="airTimeMs")
    air_time_seconds: NonNegative | None = Field(default=None, alias="airTimeSeconds")
    visible_hips: VisibleHips | None = Field(default=None, alias="visibleHips")


class JumpDiscardedMessage(BaseMessage):
    """An attempt that could not be measured, why (`reason`), and what to tell the person (§3.17)."""

    type: Literal["jump_discarded"] = "jump_discarded"
    reason: str
    user_message: str = Field(alias="userMessage")


class JumpResultMessage(BaseMessage):
    """One measured jump (§3.17); `takeoffMs`/`landingMs` are uptrack's: the video times of both events."""

    type: Literal["jump_result"] = "jump_result"
    jump_number: Annotated[int, Field(ge=1)] = Field(alias="jumpNumber")
    jump_height_cm: NonNegative = Field(alias="jumpHeightCm")
    air_time_ms: NonNegativeInt | None = Field(default=None, alias="airTimeMs")
    air_time_seconds: NonNegative | None = Field(default=None, alias="airTimeSeconds")
    takeoff_ms: NonNegativeInt | None = Field(default=None, alias="takeoffMs")
    landing_ms: NonNegativeInt | None = Field(default=None, alias="landingMs")


class JumpEntry(_Wire):
    """One jump in `jump_summary.jumps`."""

    jump_number: Annotated[int, Field(ge=1)] = Field(alias="jumpNumber")
    jump_height_cm: NonNegative = Field(alias="jumpHeightCm")
    air_time_ms: NonNegativeInt | None = Field(default=None, alias="airTimeMs")
    air_time_seconds: NonNegative | None = Field(default=None, alias="airTimeSeconds")


class JumpSummaryMessage(BaseMessage):
    """Every jump of the upload (§3.17); heights in cm, 0 when no jump was measured."""

    type: Literal["jump_summary"] = "jump_summary"
    total_jumps: NonNegativeInt = Field(alias="totalJumps")
    avg_jump_height: NonNegative = Field(alias="avgJumpHeight")
    max_jump_height: NonNegative = Field(alias="maxJumpHeight")
    min_jump_height: NonNegative = Field(alias="minJumpHeight")
    avg_air_time_seconds: NonNegative | None = Field(default=None, alias="avgAirTimeSeconds")
    jumps: list[JumpEntry] = Field(default_factory=list)


class ExportReadyMessage(BaseMessage):
    """The overlay video is ready (§3.15); a URL (presigned in the cloud, file:// locally) instead of a blob URL."""

    type: Literal["export_ready"] = "export_ready"
    url: str


class ImageOverlayMessage(BaseMessage):
    """The analysed image with the skeleton drawn, as a data URL under both `data` and `url` (§3.16)."""

    type: Literal["image_overlay"] = "image_overlay"
    data: Annotated[str, Field(pattern=r"^data:image/[a-z+.-]+;base64,")]
    url: Annotated[str, Field(pattern=r"^data:image/[a-z+.-]+;base64,")]

    @model_validator(mode="before")
    @classmethod
    def _both_keys(cls, data: Any) -> Any:
        return _mirror(data, "data", "url")

    @classmethod
    def of(cls, image: bytes, mime: str = "image/png", **base: Any) -> Self:
        url = f"data:{mime};base64,{base64.b64encode(image).decode('ascii')}"
        return cls(data=url, url=url, **base)


class ProgressMessage(BaseMessage):
    """uptrack's own: share of the video analysed, so apps can show progress without parsing prose."""

    type: Literal["progress"] = "progress"
    percent: Score100
    frames_done: NonNegativeInt = Field(alias="framesDone")
    frames_total: NonNegativeInt | None = Field(default=None, alias="framesTotal")


Message = Annotated[
    InitializationMessage
    | EnvironmentMessage
    | ErrorMessage
    | WarningMessage
    | PostureMessage
    | CounterMessage
    | FormScoreMessage
    | ProgressionMessage
    | RecommendationsMessage
    | KeypointsMessage
    | KeypointsBatchMessage
    | AnglesMessage
    | ExerciseSummaryMessage
    | ExportReadyMessage
    | ImageOverlayMessage
    | ProgressMessage
    | JumpCalibrationMessage
    | JumpStartedMessage
    | JumpHeightMessage
    | JumpDiscardedMessage
    | JumpResultMessage
    | JumpSummaryMessage,
    Field(discriminator="type"),
]

MESSAGE_TYPES: Final[tuple[type[BaseMessage], ...]] = (
    InitializationMessage,
    EnvironmentMessage,
    ErrorMessage,
    WarningMessage,
    PostureMessage,
    CounterMessage,
    FormScoreMessage,
    ProgressionMessage,
    RecommendationsMessage,
    KeypointsMessage,
    KeypointsBatchMessage,
    AnglesMessage,
    ExerciseSummaryMessage,
    ExportReadyMessage,
    ImageOverlayMessage,
    ProgressMessage,
    JumpCalibrationMessage,
    JumpStartedMessage,
    JumpHeightMessage,
    JumpDiscardedMessage,
    JumpResultMessage,
    JumpSummaryMessage,
)

_MESSAGE_ADAPTER: Final[TypeAdapter[Message]] = TypeAdapter(Message)


def dump_message(message: BaseMessage) -> dict[str, Any]:
    """The JSON-ready wire form: aliases, no nulls, `type` first so logs and humans read it at a glance."""
    wire = message.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {"type": wire.pop("type"), **wire}


def parse_message(data: Mapping[str, Any] | str | bytes) -> Message:
    """Validate a wire message (dict or JSON text); raises pydantic.ValidationError on anything off-contract."""
    if isinstance(data, str | bytes):
        return _MESSAGE_ADAPTER.validate_json(data)
    return _MESSAGE_ADAPTER.validate_python(dict(data))


def _mirror(data: Any, first: str, second: str) -> Any:
    """Fill whichever of two synonymous keys is missing from the other, so both wire spellings parse."""
    if isinstance(data, dict):
        if first in data and second not in data:
            return {**data, second: data[first]}
        if second in data and first not in data:
            return {**data, first: data[second]}
    return data
