"""After the Map: join the chunks, analyse the exercise, deliver every message (store, EventBridge, WebSocket)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.models import AnalysisInput
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.aggregation import aggregate


@logger.inject_lambda_context(correlation_id_path="uploadId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return aggregate(AnalysisInput.model_validate(event), wiring.aggregation_deps()).wire()
