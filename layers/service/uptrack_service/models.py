"""Records the service keeps, and the payloads its functions exchange (pydantic, validated at every boundary)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import AnalysisRequest

from uptrack_service.keys import UPLOAD_ID_RE

UploadId = Annotated[str, Field(pattern=UPLOAD_ID_RE)]


class Status(StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    FETCHING = "fetching"
    VALIDATING = "validating"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


TERMINAL: Final = frozenset({Status.COMPLETED, Status.FAILED})
OPEN: Final = tuple(status for status in Status if status not in TERMINAL)
"""Every status an upload can still leave, in declaration order (stable condition expressions)."""


class UploadKind(StrEnum):
    ANALYSIS = "analysis"
    REFERENCE = "reference"


class ReferenceClip(BaseModel):
    """Where the repetition lies in a reference clip (seconds; the whole clip when absent) and its label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    end_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    name: str = Field(default="", max_length=100)


class UploadRecord(BaseModel):
    """One upload (or reference upload) and its delivery bookkeeping.

    `stage_start`/`stage_count` map each emitted stage (a batch of messages, e.g. `opening`, `progress-00003`,
    `final`) to its reserved `seq` range; `subscribers` are the WebSocket connections that asked for live messages.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    upload_id: UploadId
    kind: UploadKind = UploadKind.ANALYSIS
    token_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    token_id: str
    request: dict[str, Any]
    source: Literal["video", "image"]
    object_key: str
    content_type: str
    max_bytes: int
    status: Status
    created_at: datetime
    expires_at: int
    next_seq: int = 1
    stage_start: dict[str, int] = Field(default_factory=dict)
    stage_count: dict[str, int] = Field(default_factory=dict)
    frames_done: int = 0
    frames_total: int | None = None
    chunk_count: int | None = None
    subscribers: frozenset[str] = frozenset()
    error_code: str | None = None
    clip: ReferenceClip | None = None

    def analysis_request(self) -> AnalysisRequest:
        return AnalysisRequest.model_validate(self.request)

    def stages(self) -> list[tuple[str, int, int]]:
        """(stage, first seq, count) in seq order."""
        return sorted(
            ((name, start, self.stage_count.get(name, 0)) for name, start in self.stage_start.items()),
            key=lambda item: item[1],
        )


def upload_not_found() -> UptrackError:
    """The one error for a missing upload, and for another token's upload (ids are not probeable)."""
    return UptrackError(ErrorCode.UPLOAD_NOT_FOUND, "No such upload.")


def task_mismatch() -> UptrackError:
    """A pipeline task whose keys are not its upload's: never acted on."""
    return UptrackError(ErrorCode.ANALYSIS_FAILED, "The task does not match its upload.")


def task_record(record: UploadRecord | None, media_key: str) -> UploadRecord:
    """The upload a pipeline task names, checked against the task's media object."""
    if record is None:
        raise upload_not_found()
    if media_key != record.object_key:
        raise task_mismatch()
    return record


def stored_request(request: AnalysisRequest) -> dict[str, Any]:
    """The request as stored: wire names, never the token."""
    return request.model_dump(mode="json", by_alias=True, exclude={"token"})


class Reservation(BaseModel):
    """The `seq` range of one stage, and who should get it live."""

    model_config = ConfigDict(frozen=True)

    start: int
    count: int
    subscribers: frozenset[str]
    frames_done: int = 0
    fresh: bool = True

    @classmethod
    def nothing(cls, record: UploadRecord) -> Reservation:
        """No seqs: the upload has ended and the stage asked to be delivered only while it is open."""
        return cls(
            start=record.next_seq, count=0, subscribers=record.subscribers, frames_done=record.frames_done, fresh=False
        )


class Connection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    connection_id: str
    upload_id: UploadId
    token_id: str
    connected_at: datetime
    expires_at: int


class VideoInfoPayload(BaseModel):
    """What a chunk worker needs to know about the video (no re-probe per chunk)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    codec: str
    fps: float
    frame_count: int = Field(alias="frameCount")
    duration_s: float = Field(alias="durationS")
    width: int
    height: int
    rotation: int = 0


class ChunkItem(BaseModel):
    """One manifest entry: frames [start, stop) and where the worker writes its keypoints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    start: int = Field(ge=0)
    stop: int = Field(ge=1)
    key: str


class UploadTask(BaseModel):
    """What every pipeline payload names: the upload and its media object."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    upload_id: UploadId = Field(alias="uploadId")
    bucket: str
    media_key: str = Field(alias="mediaKey")


class AnalysisInput(UploadTask):
    """The state machine's input, as the validation function starts it (also the aggregator's payload)."""

    source: Literal["video", "image"]
    manifest_key: str | None = Field(default=None, alias="manifestKey")
    video: VideoInfoPayload | None = None
    # the manifest's items again when the video is short enough for the inline Map (a few KB in the state;
    # the Distributed Map reads them from the manifest instead)
    chunks: list[ChunkItem] | None = None


class ChunkPartTask(UploadTask):
    """One Map item of a video: the chunk and the video it belongs to."""

    video: VideoInfoPayload
    chunk: ChunkItem


class ChunkTask(ChunkPartTask):
    """The inference function's payload for one Map item (the ASL's ItemSelector builds it)."""

    kind: Literal["chunk"] = "chunk"


class ImageTask(UploadTask):
    """The inference function's payload for a photo (the short path)."""

    kind: Literal["image"] = "image"


class FailureReport(BaseModel):
    """What the ASL's Catch hands the failure reporter: the upload and the States error object.

    The fetch function's OnFailure destination (an asynchronous invocation that crashed or timed out on every
    attempt) lands here too; that record is `{requestPayload: {uploadId}, responsePayload: {errorType, ...}}` and
    becomes `stage="fetch"`, which only fails an upload still waiting for its media.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    upload_id: UploadId = Field(alias="uploadId")
    error: dict[str, Any] = Field(default_factory=dict)
    stage: Literal["analysis", "fetch"] = "analysis"

    @model_validator(mode="before")
    @classmethod
    def _from_destination(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "uploadId" in data or not isinstance(data.get("requestPayload"), dict):
            return data
        response, context = data.get("responsePayload"), data.get("requestContext")
        name = response.get("errorType") if isinstance(response, dict) else None
        condition = context.get("condition") if isinstance(context, dict) else None
        return {
            "uploadId": data["requestPayload"].get("uploadId"),
            "error": {"Error": str(name or condition or "Lambda.AsyncInvokeFailed")},
            "stage": "fetch",
        }


class ExportPartTask(ChunkPartTask):
    """The export renderer's payload for one Map item: the same chunk the inference analysed."""


class ExportJoinTask(UploadTask):
    """The export joiner's payload: the upload's parts are the manifest's chunks, in order."""

    manifest_key: str = Field(alias="manifestKey")
    video: VideoInfoPayload


class Outcome(StrEnum):
    """What an event-driven function did with its event (S3 object, fetch request): its result and its log."""

    STARTED = "started"
    """The analysis was started (validation)."""
    CREATED = "created"
    """The reference's signature was stored (reference processing)."""
    FETCHED = "fetched"
    """The remote media is in the bucket (fetch); S3 then starts the validation."""
    DUPLICATE = "duplicate"
    """A repeated event: the work was already done or started."""
    IGNORED = "ignored"
    """Not ours to act on (another object, a missing record, nothing to fetch)."""
    REJECTED = "rejected"
    """The media or request was refused; the subscriber got the typed error."""


class StepResult(BaseModel):
    """What a pipeline function hands back to Step Functions: small, and never a payload (those go to S3)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The Lambda's JSON result."""
        return self.model_dump(mode="json", by_alias=True)


class PartResult(StepResult):
    """One Map item's output (a chunk's keypoints, or an export part): the S3 key the next step reads."""

    key: str
    frames: int


class ImageResult(StepResult):
    """The photo path: analysed and delivered in one step."""

    status: Literal["completed"] = "completed"
    messages: int


class AggregateResult(StepResult):
    """The aggregator's result; the state machine's choice reads `export`."""

    status: Literal["completed", "exporting"]
    messages: int
    frames: int
    export: bool


class ExportResult(StepResult):
    """The joined export: where it lies and what it was made of."""

    status: Literal["completed"] = "completed"
    key: str
    parts: int
    bytes: int


class FailureResult(StepResult):
    """The failure reporter's result: the code delivered, and whether the subscriber was told now."""

    upload_id: UploadId = Field(alias="uploadId")
    code: str
    delivered: bool


class ObjectEventResult(StepResult):
    """An S3 Object Created handler's result: the key and what was done with it."""

    key: str
    outcome: Outcome


class FetchResult(StepResult):
    """The fetch function's result."""

    upload_id: UploadId = Field(alias="uploadId")
    result: Outcome
