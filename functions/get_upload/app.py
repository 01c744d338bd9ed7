"""GET /uploads/{uploadId}: status and the messages so far, for apps that poll (only the owning token sees it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.lambda_events import HttpEvent, respond
from uptrack_service.api.upload_service import get_upload
from uptrack_service.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=HttpEvent)
    upload_id = (request.pathParameters or {}).get("uploadId", "")
    after = request.param("afterSeq") or "0"
    return respond(
        lambda: get_upload(
            upload_id,
            request.bearer(),
            int(after) if after.isdigit() else 0,
            wiring.upload_deps(),
            wiring.delivery(),
        )
    )
