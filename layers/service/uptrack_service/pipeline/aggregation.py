"""The aggregator's logic: join the chunks in order, run the exercise analysis, deliver the results."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.export import client_messages, drawing_request
from uptrack.pipeline import check_decoded, opening_messages, video_messages
from uptrack.pose.series import PoseSeries
from uptrack.reference.store import ReferenceStore
from uptrack.smoothing import smooth_series

from uptrack_service.delivery import Delivery, public_error
from uptrack_service.keys import manifest_key
from uptrack_service.models import (
    AggregateResult,
    AnalysisInput,
    ChunkItem,
    Status,
    UploadRecord,
    task_mismatch,
    task_record,
)
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.exporting import write_plan
from uptrack_service.pipeline.inference import AnalysisTaskError
from uptrack_service.ports import ObjectMissingError, ObjectStore, UploadStore


@dataclass
class AggregationDeps:
    uploads: UploadStore
    objects: ObjectStore
    delivery: Delivery
    references: ReferenceStore | None = None


def load_series(objects: ObjectStore, items: list[ChunkItem]) -> PoseSeries:
    """Every chunk's keypoints, downloaded in parallel and joined in frame order.

    The .npz files are parsed in this thread only: numpy reads each header with `ast.literal_eval`, and CPython
    3.11 keeps the AST builder's recursion counter per interpreter, so two threads parsing at once can fail with
    `SystemError: AST constructor recursion depth mismatch`.
    """
    with ThreadPoolExecutor(max_workers=8) as pool:
        blobs = list(pool.map(lambda item: _chunk_bytes(objects, item), items))
    return PoseSeries.concat([PoseSeries.from_bytes(blob) for blob in blobs])


def _chunk_bytes(objects: ObjectStore, item: ChunkItem) -> bytes:
    """A chunk's keypoints; a missing one (its worker failed and the Map went on anyway) is a typed failure."""
    try:
        return objects.get_bytes(item.key)
    except ObjectMissingError:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "Part of the video could not be analysed.") from None


@tracer.capture_method
def aggregate(payload: AnalysisInput, deps: AggregationDeps) -> AggregateResult:
    record: UploadRecord | None = None
    try:
        record = task_record(deps.uploads.get(payload.upload_id), payload.media_key)
        if payload.manifest_key != manifest_key(payload.upload_id):
            raise task_mismatch()
        request = record.analysis_request()
        items = [ChunkItem.model_validate(item) for item in json.loads(deps.objects.get_bytes(payload.manifest_key))]
        series = load_series(deps.objects, items)
        expected = payload.video.frame_count if payload.video is not None else record.frames_total
        check_decoded(series, expected)
        drawn = video_messages(series, drawing_request(request), deps.references, record.token_hash, expected)
        messages = client_messages(drawn, request)
    except UptrackError as error:
        opening = opening_messages(record.analysis_request()) if record else ()
        deps.delivery.fail(payload.upload_id, error, opening)
        raise AnalysisTaskError(public_error(error)) from None
    if request.export:  # the closing message waits for export_ready (exporting.py)
        write_plan(deps.objects, payload.upload_id, smooth_series(series), drawn, request.skeleton is not False)
        deps.delivery.emit(payload.upload_id, "final", messages[:-1])
        logger.info("analysis delivered; exporting", extra={"upload_id": payload.upload_id})
        return AggregateResult(status="exporting", messages=len(messages) - 1, frames=len(series), export=True)
    deps.delivery.emit(payload.upload_id, "final", messages)
    deps.uploads.transition(payload.upload_id, Status.COMPLETED, (Status.PROCESSING,))
    metrics.add_metric(name="AnalysesCompleted", unit="Count", value=1)
    logger.info("analysis completed", extra={"upload_id": payload.upload_id, "messages": len(messages)})
    return AggregateResult(status="completed", messages=len(messages), frames=len(series), export=False)
