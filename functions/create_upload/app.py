"""POST /uploads: admit an upload (token, plan, PoseTracker query) and return where to PUT and where to listen."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.http import analysis_query, http_app, json_response
from uptrack_service.api.upload_service import UploadBody, create_upload
from uptrack_service.observability import logger, metrics, tracer

app = http_app()


@app.post("/uploads")
def post_upload(body: Annotated[UploadBody | None, Body()] = None) -> Response[str]:
    created = create_upload(analysis_query(app.current_event), body or UploadBody(), wiring.upload_deps())
    return json_response(created, 201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
