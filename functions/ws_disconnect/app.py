"""WebSocket $disconnect: forget the connection and its subscription."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.api.lambda_events import WsDisconnectEvent
from uptrack_service.api.subscriptions import disconnect
from uptrack_service.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path="requestContext.connectionId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=WsDisconnectEvent)
    disconnect(request.request_context.connection_id, wiring.subscription_deps())
    return {"statusCode": 200}
