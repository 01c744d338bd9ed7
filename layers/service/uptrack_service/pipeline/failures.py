"""The failure reporter: the state machine's Catch lands here, and the subscriber gets one typed `error`.

A step that failed with a known cause already delivered its error (and raised `AnalysisTaskError` with the
code as JSON); `fail` is idempotent, so the report then changes nothing. Anything else (a timeout, a crashed
Lambda, a Map that gave up) becomes `analysis_failed` with the States error name, never a traceback.

The asynchronously invoked functions (validation and reference processing from EventBridge, the fetch from POST
/uploads, the sweeper from its schedule) have an SQS OnFailure destination: when Lambda's own retries are spent,
it queues a record of the invocation, and `report_async_failures` (the same function, fed by that queue) turns
each into the upload's typed error. A record it cannot tie to an upload is logged and dropped; one whose report
keeps failing goes, after the queue's receive limit, to the dead-letter queue that the alarms watch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.delivery import Delivery
from uptrack_service.keys import reference_id_from_key, upload_id_from_key
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


def _object_key(payload: dict[str, Any]) -> str | None:
    """The key of an S3 `Object Created` event delivered by EventBridge (the validation and reference functions'
    request payload), or None."""
    detail = payload.get("detail")
    s3_object = detail.get("object") if isinstance(detail, dict) else None
    key = s3_object.get("key") if isinstance(s3_object, dict) else None
    return unquote_plus(key) if isinstance(key, str) else None


def report_from_destination(record: dict[str, Any]) -> FailureReport | None:
    """An OnFailure destination record (`requestPayload`, `responsePayload`, `requestContext`) as a failure report,
    or None when the failed invocation belongs to no upload (the sweeper's schedule)."""
    payload = record.get("requestPayload")
    if not isinstance(payload, dict):
        return None
    if "uploadId" in payload:
        return FailureReport.model_validate(record)  # the fetch function's own payload: stage "fetch"
    key = _object_key(payload)
    upload_id = None if key is None else upload_id_from_key(key) or reference_id_from_key(key)
    if upload_id is None:
        return None
    carried = FailureReport.model_validate({**record, "requestPayload": {"uploadId": upload_id}})
    return FailureReport(upload_id=upload_id, error=carried.error, stage="analysis")


def report_async_failures(records: list[dict[str, Any]], deps: FailureDeps) -> list[FailureResult]:
    """Each destination record (an SQS message body) reported; raises on a report that fails, so the message comes
    back and, after the queue's receive limit, lands in the dead-letter queue."""
    results = []
    for record in records:
        report = report_from_destination(record)
        if report is None:
            logger.warning("asynchronous failure of no upload", extra={"destination_record": record})
            continue
        results.append(report_failure(report, deps))
    return results
