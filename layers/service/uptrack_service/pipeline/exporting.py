"""Video export on AWS (`export=true`): rendered per chunk in parallel, joined without re-encoding, announced.

1. The aggregator (aggregation.py) delivers every result but the closing message and writes the *export plan*
   (`work/{id}/export/plan.npz`): the smoothed poses by frame, the counted reps and the fired cues read from its
   own messages, the joints whose angle is labelled (`uptrack.export.Overlay`), and the closing `initialization`
   it held back.
2. A second Map over the same chunk manifest runs `render_export_part` per chunk: frames [start, stop) decoded
   straight from S3, overlay drawn, H.264 part (`uptrack.export.render_part`) to `work/{id}/export/parts/`.
3. `join_export` concatenates the parts in manifest order (concat demuxer, stream copy; the source's audio
   added), stores `exports/{id}/uptrack.mp4`, and delivers `export_ready` (a presigned GET that expires) and
   then the closing message: the order `uptrack analyze --export` prints.

Every step only passes S3 keys through Step Functions. A failure delivers one typed `error` after the results.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final, cast

import numpy as np
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.grades import Grade
from uptrack.contract.messages import BaseMessage, ExportReadyMessage, dump_message, parse_message
from uptrack.export import GRADE_COLOURS, CueMark, Overlay, RepMark, join_parts, render_part
from uptrack.pose.series import PoseSeries

from uptrack_service.delivery import Delivery, public_error
from uptrack_service.keys import chunk_key, export_key, export_part_key, export_plan_key, manifest_key
from uptrack_service.models import (
    ChunkItem,
    ExportJoinTask,
    ExportPartTask,
    ExportResult,
    PartResult,
    Status,
    UploadRecord,
    task_mismatch,
    task_record,
)
from uptrack_service.observability import logger, metrics, tracer
from uptrack_service.pipeline.inference import AnalysisTaskError
from uptrack_service.ports import ObjectMissingError, ObjectStore, UploadStore
from uptrack_service.settings import ServiceSettings

MP4: Final = "video/mp4"
_NPZ: Final = "application/x-npz"
_QUERY: Final = re.compile(r"\?\S*")
_PARSING = threading.Lock()
"""numpy parses .npz headers with `ast.literal_eval`, which CPython 3.11 cannot run in two threads at once
(`SystemError: AST constructor recursion depth mismatch`): renderers share a process on the local stack."""


@dataclass(frozen=True)
class ExportPlan:
    """What every renderer draws and what the joiner sends last."""

    overlay: Overlay
    closing: BaseMessage

    @classmethod
    def of(cls, series: PoseSeries, messages: list[BaseMessage], skeleton: bool = True) -> ExportPlan:
        """From the smoothed series and the analysis' messages (the last one is the closing message); without
        `skeleton` (the request's `skeleton=false`) no pose is drawn."""
        return cls(Overlay.of(series, messages, skeleton), messages[-1])

    def to_bytes(self) -> bytes:
        marks, cues = self.overlay.marks, self.overlay.cues
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            frame_index=self.overlay.frame_index.astype(np.int64),
            coco=self.overlay.coco.astype(np.float32),
            mark_time_ms=np.array([m.time_ms for m in marks], dtype=np.int64),
            mark_count=np.array([m.count for m in marks], dtype=np.int64),
            mark_grade=np.array([m.grade or "" for m in marks], dtype="<U1"),
            cue_time_ms=np.array([c.time_ms for c in cues], dtype=np.int64),
            cue_text=np.array([c.text for c in cues], dtype=np.str_),
            cue_grade=np.array([c.grade or "" for c in cues], dtype="<U1"),
            joints=np.array(self.overlay.joints, dtype=np.str_),
            closing=np.array(json.dumps(dump_message(self.closing))),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ExportPlan:
        with _PARSING, np.load(io.BytesIO(data), allow_pickle=False) as archive:
            marks = tuple(
                RepMark(int(time_ms), int(count), _grade(grade))
                for time_ms, count, grade in zip(
                    archive["mark_time_ms"].tolist(),
                    archive["mark_count"].tolist(),
                    archive["mark_grade"].tolist(),
                    strict=True,
                )
            )
            cues = tuple(
                CueMark(int(time_ms), str(text), _grade(grade))
                for time_ms, text, grade in zip(
                    archive["cue_time_ms"].tolist(),
                    archive["cue_text"].tolist(),
                    archive["cue_grade"].tolist(),
                    strict=True,
                )
            )
            joints = tuple(str(joint) for joint in archive["joints"].tolist())
            frames, coco = archive["frame_index"].astype(np.int64), archive["coco"].astype(np.float32)
            return cls(Overlay(frames, coco, marks, cues, joints), parse_message(str(archive["closing"])))


def _grade(letter: str) -> Grade | None:
    """A stored grade letter ('' for none)."""
    return cast(Grade, letter) if letter in GRADE_COLOURS else None


def write_plan(
    objects: ObjectStore, upload_id: str, series: PoseSeries, messages: list[BaseMessage], skeleton: bool = True
) -> None:
    """The aggregator's share: store what the renderers and the joiner need (messages stay in the store)."""
    objects.put_bytes(export_plan_key(upload_id), ExportPlan.of(series, messages, skeleton).to_bytes(), _NPZ)


@dataclass
class ExportDeps:
    uploads: UploadStore
    objects: ObjectStore
    delivery: Delivery
    settings: ServiceSettings


def _record(deps: ExportDeps, upload_id: str, media_key: str) -> UploadRecord:
    record = task_record(deps.uploads.get(upload_id), media_key)
    if record.status is not Status.PROCESSING:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "The upload is not being exported.")
    if not record.analysis_request().export:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "The upload did not ask for an export.")
    return record


def _plan(deps: ExportDeps, upload_id: str) -> ExportPlan:
    try:
        return ExportPlan.from_bytes(deps.objects.get_bytes(export_plan_key(upload_id)))
    except ObjectMissingError:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "The export has no plan (the analysis did not finish).") from None


def _failed(deps: ExportDeps, upload_id: str, error: UptrackError) -> AnalysisTaskError:
    """Tell the subscriber once (after the results it already has) and hand Step Functions the typed error.

    ffmpeg's own words go to the log only, with URL queries (presigned signatures) cut out.
    """
    if "ffmpeg" in error.details:
        logger.warning(
            "ffmpeg failed", extra={"upload_id": upload_id, "ffmpeg": _QUERY.sub("?…", str(error.details["ffmpeg"]))}
        )
    failure = UptrackError(error.code, error.message, {k: v for k, v in error.details.items() if k != "ffmpeg"})
    deps.delivery.fail(upload_id, failure)
    return AnalysisTaskError(public_error(failure))


@tracer.capture_method
def render_export_part(task: ExportPartTask, deps: ExportDeps) -> PartResult:
    """One Map item: the chunk's frames with the overlay, as an H.264 part in S3; returns its key."""
    chunk = task.chunk
    try:
        _record(deps, task.upload_id, task.media_key)
        if chunk.key != chunk_key(task.upload_id, chunk.index) or chunk.stop > task.video.frame_count:
            raise UptrackError(ErrorCode.ANALYSIS_FAILED, "The chunk does not match its upload.")
        plan = _plan(deps, task.upload_id)
        key = export_part_key(task.upload_id, chunk.index)
        with tempfile.TemporaryDirectory(prefix="uptrack-part-") as folder:
            part = Path(folder) / "part.mp4"
            source = deps.objects.media_source(task.media_key)
            written = render_part(source, chunk.start, chunk.stop, plan.overlay, part, task.video.fps)
            with part.open("rb") as stream:
                deps.objects.upload_stream(key, stream, MP4)
    except UptrackError as error:
        raise _failed(deps, task.upload_id, error) from None
    metrics.add_metric(name="FramesExported", unit="Count", value=written)
    logger.info("export part done", extra={"upload_id": task.upload_id, "chunk": chunk.index, "frames": written})
    return PartResult(key=key, frames=written)


@tracer.capture_method
def join_export(task: ExportJoinTask, deps: ExportDeps) -> ExportResult:
    """Join the parts in order, store the video, deliver `export_ready` and the closing message, complete."""
    try:
        _record(deps, task.upload_id, task.media_key)
        if task.manifest_key != manifest_key(task.upload_id):
            raise task_mismatch()
        plan = _plan(deps, task.upload_id)
        items = [ChunkItem.model_validate(item) for item in json.loads(deps.objects.get_bytes(task.manifest_key))]
        key = export_key(task.upload_id)
        with tempfile.TemporaryDirectory(prefix="uptrack-join-") as folder:
            parts = _download_parts(deps.objects, task.upload_id, items, Path(folder))
            video = Path(folder) / "uptrack.mp4"
            join_parts(parts, video, audio_from=deps.objects.media_source(task.media_key))
            size = video.stat().st_size
            with video.open("rb") as stream:
                deps.objects.upload_stream(key, stream, MP4)
    except UptrackError as error:
        raise _failed(deps, task.upload_id, error) from None
    url = deps.objects.presign_get(key, deps.settings.export_url_expiry_s)
    ready = ExportReadyMessage(url=url, timestamp_ms=plan.closing.timestamp_ms)
    deps.delivery.emit(task.upload_id, "export", [ready, plan.closing])
    deps.uploads.transition(task.upload_id, Status.COMPLETED, (Status.PROCESSING,))
    metrics.add_metric(name="ExportsCompleted", unit="Count", value=1)
    logger.info("export ready", extra={"upload_id": task.upload_id, "parts": len(items), "bytes": size})
    return ExportResult(key=key, parts=len(items), bytes=size)


def _download_parts(objects: ObjectStore, upload_id: str, items: list[ChunkItem], folder: Path) -> list[Path]:
    """Every part of the manifest, in order (fetched in parallel); a missing part is a typed failure."""
    ordered = sorted(items, key=lambda item: item.index)
    paths = [folder / f"part-{item.index:05d}.mp4" for item in ordered]

    def fetch(pair: tuple[ChunkItem, Path]) -> None:
        objects.download(export_part_key(upload_id, pair[0].index), pair[1])

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(fetch, zip(ordered, paths, strict=True)))
    except ObjectMissingError:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "A part of the exported video is missing.") from None
    return paths
