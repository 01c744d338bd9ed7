"""GET /pose_tracker/upload_tracking, /upload_tracking and the page's files: the hosted Upload Tracking page."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack_service.api.http import error_response, http_app
from uptrack_service.api.web_page import PAGE_FILE, PAGE_PATHS, WebFile, web_file
from uptrack_service.observability import logger, metrics, tracer

app = http_app()


def _response(found: WebFile | None) -> Response[str]:
    if found is None:
        return error_response(UptrackError(ErrorCode.INVALID_PARAMS, "No such file."), 404)
    headers = {"Cache-Control": found.cache_control, "X-Content-Type-Options": "nosniff"}
    return Response(status_code=200, content_type=found.content_type, body=found.body, headers=headers)


@app.get(PAGE_PATHS[0])
@app.get(PAGE_PATHS[1])
def page() -> Response[str]:
    return _response(web_file(PAGE_FILE))


@app.get("/<name>")
def page_file(name: str) -> Response[str]:
    return _response(web_file(name))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
