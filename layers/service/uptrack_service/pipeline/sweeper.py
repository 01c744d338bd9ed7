"""The stuck-upload sweeper: an upload the server owns (fetching, validating, processing) that is still open past
its deadline is failed with a typed `error`, and its execution (if any) stopped.

Every other failure path ends in a report: the state machine's Catch, the asynchronous functions' OnFailure
queue. What none of them sees is a step that never reports at all: an execution that hit its own timeout (not
catchable), an S3 event EventBridge could not deliver, a report that itself failed. A subscriber would then wait
forever; the sweeper, run on a schedule, bounds that wait. `awaiting_upload` is left alone: the client owns the
next step and may never take it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from pydantic import BaseModel, ConfigDict, Field
from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.delivery import Delivery
from uptrack_service.models import Status, UploadRecord
from uptrack_service.observability import logger, metrics

SERVER_OWNED: Final = (Status.FETCHING, Status.VALIDATING, Status.PROCESSING)
STUCK_MESSAGE: Final = "The analysis did not finish in time. Please try again."


class OpenUploads(Protocol):
    def open_before(self, cutoff: datetime, statuses: Iterable[Status]) -> list[UploadRecord]:
        """Uploads in one of `statuses` created before `cutoff`."""
        ...


class ExecutionStopper(Protocol):
    def stop(self, name: str, cause: str) -> bool:
        """Stop the execution named `name`; False when there is none running."""
        ...


class SweepRequest(BaseModel):
    """The schedule's input (the template passes its StuckUploadMinutes parameter)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    stuck_after_minutes: int = Field(default=30, alias="stuckAfterMinutes", ge=1)


class SweepResult(BaseModel):
    swept: list[str]
    stopped: list[str]


@dataclass
class SweeperDeps:
    uploads: OpenUploads
    delivery: Delivery
    executions: ExecutionStopper
    now: Callable[[], datetime]


def stuck_error(record: UploadRecord) -> UptrackError:
    return UptrackError(ErrorCode.ANALYSIS_FAILED, STUCK_MESSAGE, {"reason": f"stuck_{record.status.value}"})


def sweep(request: SweepRequest, deps: SweeperDeps) -> SweepResult:
    cutoff = deps.now() - timedelta(minutes=request.stuck_after_minutes)
    swept: list[str] = []
    stopped: list[str] = []
    for record in deps.uploads.open_before(cutoff, SERVER_OWNED):
        if not deps.delivery.fail(record.upload_id, stuck_error(record)):
            continue  # it finished between the scan and now
        swept.append(record.upload_id)
        if record.status is Status.PROCESSING and deps.executions.stop(record.upload_id, STUCK_MESSAGE):
            stopped.append(record.upload_id)
    if swept:
        logger.warning("stuck uploads failed", extra={"upload_ids": swept, "stopped": stopped})
    metrics.add_metric(name="StuckUploadsSwept", unit="Count", value=len(swept))
    return SweepResult(swept=swept, stopped=stopped)
