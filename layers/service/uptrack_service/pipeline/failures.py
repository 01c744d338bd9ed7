"""The failure reporter: the state machine's Catch lands here, and the subscriber gets one typed `error`.

A step that failed with a known cause already delivered its error (and raised `AnalysisTaskError` with the
code as JSON); `fail` is idempotent, so the report then changes nothing. Anything else (a timeout, a crashed
Lambda, a Map that gave up) becomes `analysis_failed` with the States error name, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.delivery import Delivery
from uptrack_service.models import FailureReport, FailureResult, Status
from uptrack_service.observability import logger
from uptrack_service.ports import UploadStore

GENERIC_MESSAGE = "The analysis failed. Please try again."


@dataclass
class FailureDeps:
    uploads: UploadStore
    delivery: Delivery


def error_from_states(error: dict[str, Any]) -> UptrackError:
    """The typed error carried by a Catch's `{Error, Cause}`, or a generic one."""
    name = str(error.get("Error", "States.TaskFailed"))
    try:
        cause = json.loads(str(error.get("Cause", "")))
        carried = json.loads(cause["errorMessage"]) if cause.get("errorType") == "AnalysisTaskError" else None
        if carried is not None:
            return UptrackError(ErrorCode(carried["code"]), str(carried["message"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return UptrackError(ErrorCode.ANALYSIS_FAILED, GENERIC_MESSAGE, {"reason": name[:100]})


def report_failure(report: FailureReport, deps: FailureDeps) -> FailureResult:
    record = deps.uploads.get(report.upload_id)
    error = error_from_states(report.error)
    if report.stage == "fetch" and (record is None or record.status is not Status.FETCHING):
        # the media arrived before the fetch function failed: the analysis owns the upload now
        logger.info("fetch failure after the media arrived; ignored", extra={"upload_id": report.upload_id})
        return FailureResult(upload_id=report.upload_id, code=error.code.value, delivered=False)
    logger.warning("analysis failed", extra={"upload_id": report.upload_id, "states_error": report.error.get("Error")})
    delivered = record is not None and deps.delivery.fail(report.upload_id, error)
    return FailureResult(upload_id=report.upload_id, code=error.code.value, delivered=delivered)
