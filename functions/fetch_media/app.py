"""Asynchronous fetch of a `videoSrc` / `imageSrc` into the bucket (invoked by POST /uploads)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field
from uptrack_service import wiring
from uptrack_service.api.upload_service import fetch_media
from uptrack_service.models import FetchResult, UploadId
from uptrack_service.observability import logger, metrics, tracer


class FetchEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upload_id: UploadId = Field(alias="uploadId")


@logger.inject_lambda_context(correlation_id_path="uploadId")
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = FetchEvent.model_validate(event)
    return FetchResult(upload_id=request.upload_id, result=fetch_media(request.upload_id, wiring.upload_deps())).wire()
