"""S3 Object Created (via EventBridge): probe the media, plan the chunks, start the analysis named by the upload."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import S3EventNotificationEventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.models import ObjectEventResult
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.validation import validate_object


@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    notification = parse(event=event, model=S3EventNotificationEventBridgeModel)
    bucket, key = notification.detail.bucket.name, notification.detail.object.key
    return ObjectEventResult(key=key, outcome=validate_object(bucket, key, wiring.validation_deps())).wire()
