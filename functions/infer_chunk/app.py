"""One Map item: a video chunk (keypoints to S3, key back to Step Functions), or the whole photo."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, TypeAdapter
from uptrack_service import wiring
from uptrack_service.models import ChunkTask, ImageTask
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.inference import run_task

TASK = TypeAdapter[ChunkTask | ImageTask](Annotated[ChunkTask | ImageTask, Field(discriminator="kind")])


@logger.inject_lambda_context(correlation_id_path="uploadId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return run_task(TASK.validate_python(event), wiring.inference_deps()).wire()
