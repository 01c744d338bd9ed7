"""POST /references: reserve a reference-movement upload (a clip of one repetition, optional start/end seconds)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.lambda_events import HttpEvent, respond
from uptrack_service.api.references import ReferenceBody, create_reference_upload
from uptrack_service.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=HttpEvent)
    return respond(
        lambda: create_reference_upload(
            request.query(), ReferenceBody.model_validate(request.json_body()), wiring.upload_deps()
        ),
        status=201,
    )
