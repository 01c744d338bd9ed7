"""GET /references/{referenceId}: a reference's status and summary (only the token that made it sees it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.http import event_token, http_app, json_response
from uptrack_service.api.references import get_reference
from uptrack_service.observability import logger, metrics, tracer

app = http_app()


@app.get("/references/<reference_id>")
def get_one_reference(reference_id: str) -> Response[str]:
    view = get_reference(reference_id, event_token(app.current_event), wiring.uploads(), wiring.references())
    return json_response(view)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
