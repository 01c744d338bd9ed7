"""WebSocket $connect: `?uploadId=...&token=...`; only the token that created the upload may listen to it."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.lambda_events import WsConnectEvent
from uptrack_service.api.subscriptions import ConnectRefusedError, connect
from uptrack_service.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="requestContext.connectionId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=WsConnectEvent)
    query = request.query_string_parameters or {}
    try:
        connect(request.request_context.connection_id, request.headers, query, wiring.subscription_deps())
    except ConnectRefusedError as refused:
        logger.info("connection refused", extra={"code": refused.error.code.value})
        return {"statusCode": refused.status}
    return {"statusCode": 200}
