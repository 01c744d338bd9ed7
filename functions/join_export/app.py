"""After the export Map: join the parts without re-encoding, store the MP4, deliver export_ready and the end."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.models import ExportJoinTask
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.exporting import join_export


@logger.inject_lambda_context(correlation_id_path="uploadId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return join_export(ExportJoinTask.model_validate(event), wiring.export_deps()).wire()
