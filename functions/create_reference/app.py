"""POST /references: reserve a reference-movement upload (a clip of one repetition, optional start/end seconds)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.http import analysis_query, http_app, json_response
from uptrack_service.api.references import ReferenceBody, create_reference_upload
from uptrack_service.observability import logger, metrics, tracer

app = http_app()


@app.post("/references")
def post_reference(body: Annotated[ReferenceBody | None, Body()] = None) -> Response[str]:
    created = create_reference_upload(analysis_query(app.current_event), body or ReferenceBody(), wiring.upload_deps())
    return json_response(created, 201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
