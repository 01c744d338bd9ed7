"""Turn any failure into one typed `error` message for the subscriber: the state machine's Catch (invoked with
`{uploadId, error}`), or the SQS queue that the asynchronous functions' OnFailure destinations fill."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.models import FailureReport
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.failures import report_async_failures, report_failure


@logger.inject_lambda_context(correlation_id_path="uploadId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        records = [json.loads(message["body"]) for message in event["Records"]]
        return {"reports": [result.wire() for result in report_async_failures(records, wiring.failure_deps())]}
    return report_failure(FailureReport.model_validate(event), wiring.failure_deps()).wire()
