"""Scheduled: fail the uploads stuck in a server-owned state past their deadline (typed `error` to subscribers)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.sweeper import SweepRequest, sweep


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return sweep(SweepRequest.model_validate(event), wiring.sweeper_deps()).model_dump()
