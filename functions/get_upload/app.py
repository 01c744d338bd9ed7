"""GET /uploads/{uploadId}: status and the messages so far, for apps that poll (only the owning token sees it)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.http import event_token, http_app, json_response
from uptrack_service.api.upload_service import get_upload
from uptrack_service.observability import logger, metrics, tracer

app = http_app()


@app.get("/uploads/<upload_id>")
def get_one_upload(upload_id: str, after_seq: Annotated[int, Query(alias="afterSeq", ge=0)] = 0) -> Response[str]:
    view = get_upload(upload_id, event_token(app.current_event), after_seq, wiring.upload_deps())
    return json_response(view)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
