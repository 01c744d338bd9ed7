"""One item of the export Map: a chunk's frames with the overlay, as an H.264 part in S3 (key back)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from uptrack_service import wiring
from uptrack_service.models import ExportPartTask
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.exporting import render_export_part


@logger.inject_lambda_context(correlation_id_path="uploadId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return render_export_part(ExportPartTask.model_validate(event), wiring.export_deps()).wire()
