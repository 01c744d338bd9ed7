"""The composition root: AWS clients and adapters built once per container from `ServiceSettings`.

Handlers call the `*_deps()` builders; nothing else constructs clients. Every client honours `AWS_ENDPOINT_URL`
(boto3 reads it), which is how the same handlers run against moto; the management API takes its endpoint from
`WEBSOCKET_MANAGEMENT_ENDPOINT`. `reset()` forgets everything (tests and the local stack switch endpoints).
"""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from uptrack.contract.tokens import JsonFileTokenStore, TokenStore

from uptrack_service.adapters.dynamodb_connections import DynamoDbConnectionStore
from uptrack_service.adapters.dynamodb_tokens import DynamoDbTokenStore
from uptrack_service.adapters.dynamodb_uploads import DynamoDbUploadStore
from uptrack_service.adapters.eventbridge import EventBridgeSink
from uptrack_service.adapters.s3_references import S3ReferenceStore
from uptrack_service.adapters.s3_store import S3ObjectStore
from uptrack_service.adapters.stepfunctions import LambdaFetchLauncher, StepFunctionsOrchestrator
from uptrack_service.adapters.websocket import ManagementApiPusher
from uptrack_service.delivery import Delivery, DeliveryLimits
from uptrack_service.settings import ServiceSettings, get_settings

if TYPE_CHECKING:  # the heavy modules (OpenCV, onnxruntime) load only in the functions that use them
    from uptrack_service.api.subscriptions import SubscriptionDeps
    from uptrack_service.api.upload_service import UploadDeps
    from uptrack_service.pipeline.aggregation import AggregationDeps
    from uptrack_service.pipeline.exporting import ExportDeps
    from uptrack_service.pipeline.failures import FailureDeps
    from uptrack_service.pipeline.inference import InferenceDeps
    from uptrack_service.pipeline.reference_processing import ReferenceDeps
    from uptrack_service.pipeline.sweeper import SweeperDeps
    from uptrack_service.pipeline.validation import ValidationDeps

_lock = threading.Lock()
_RETRIES = {"mode": "standard", "max_attempts": 4}


def utcnow() -> datetime:
    return datetime.now(UTC)


@functools.cache
def client(service: str) -> Any:
    """One client per service (boto3 clients are thread-safe; creating them is not, hence the lock)."""
    settings = get_settings()
    with _lock:
        if service == "s3":
            return boto3.client("s3", config=Config(signature_version="s3v4", retries=_RETRIES))
        if service == "apigatewaymanagementapi":
            return boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=settings.websocket_management_endpoint or None,
                config=Config(retries=_RETRIES, connect_timeout=3, read_timeout=10),
            )
        return boto3.client(service, config=Config(retries=_RETRIES))


def settings() -> ServiceSettings:
    return get_settings()


@functools.cache
def objects() -> S3ObjectStore:
    return S3ObjectStore(client("s3"), settings().uploads_bucket)


@functools.cache
def uploads() -> DynamoDbUploadStore:
    return DynamoDbUploadStore(client("dynamodb"), settings().uploads_table)


@functools.cache
def connections() -> DynamoDbConnectionStore:
    return DynamoDbConnectionStore(client("dynamodb"), settings().connections_table)


@functools.cache
def references() -> S3ReferenceStore:
    """Reference movements (signatures) in the uploads bucket, scoped by the token's hash."""
    return S3ReferenceStore(client("s3"), settings().uploads_bucket)


def tokens() -> TokenStore:
    """The tokens table; the local stack's tokens file when set (so the CLI's `token` commands act at once)."""
    path = settings().tokens_file
    if path is not None:
        return _file_tokens(path)
    return DynamoDbTokenStore(client("dynamodb"), settings().tokens_table)


@functools.cache
def _file_tokens(path: Path) -> JsonFileTokenStore:
    """One store per file: its lock is what keeps concurrent uploads' usage increments from overwriting each other."""
    return JsonFileTokenStore(path)


@functools.cache
def delivery() -> Delivery:
    config = settings()
    return Delivery(
        uploads=uploads(),
        objects=objects(),
        events=EventBridgeSink(client("events"), config.event_bus_name),
        connections=connections(),
        pusher=ManagementApiPusher(client("apigatewaymanagementapi")),
        limits=DeliveryLimits(
            ws_bytes=config.ws_message_limit_bytes,
            event_bytes=config.event_detail_limit_bytes,
            link_expiry_s=config.link_expiry_s,
        ),
    )


def upload_deps() -> UploadDeps:
    from uptrack_service.api.upload_service import UploadDeps, default_catalogue

    return UploadDeps(
        uploads=uploads(),
        objects=objects(),
        tokens=tokens(),
        fetcher=LambdaFetchLauncher(client("lambda"), settings().fetch_function_name),
        settings=settings(),
        catalogue=default_catalogue(),
        now=utcnow,
        delivery=delivery(),
        references=references(),
    )


def validation_deps() -> ValidationDeps:
    from uptrack_service.pipeline.validation import ValidationDeps

    orchestrator = StepFunctionsOrchestrator(client("stepfunctions"), settings().state_machine_arn)
    return ValidationDeps(uploads(), objects(), orchestrator, delivery(), settings(), references())


def inference_deps() -> InferenceDeps:
    from uptrack_service.pipeline.inference import InferenceDeps

    return InferenceDeps(uploads(), objects(), delivery(), settings())


def aggregation_deps() -> AggregationDeps:
    from uptrack_service.pipeline.aggregation import AggregationDeps

    return AggregationDeps(uploads(), objects(), delivery(), references())


def export_deps() -> ExportDeps:
    from uptrack_service.pipeline.exporting import ExportDeps

    return ExportDeps(uploads(), objects(), delivery(), settings())


def reference_deps() -> ReferenceDeps:
    from uptrack_service.pipeline.reference_processing import ReferenceDeps

    return ReferenceDeps(uploads(), objects(), references(), delivery(), settings())


def failure_deps() -> FailureDeps:
    from uptrack_service.pipeline.failures import FailureDeps

    return FailureDeps(uploads(), delivery())


def sweeper_deps() -> SweeperDeps:
    from uptrack_service.pipeline.sweeper import SweeperDeps

    executions = StepFunctionsOrchestrator(client("stepfunctions"), settings().state_machine_arn)
    return SweeperDeps(uploads(), delivery(), executions, utcnow)


def subscription_deps() -> SubscriptionDeps:
    from uptrack_service.api.subscriptions import SubscriptionDeps

    return SubscriptionDeps(uploads(), connections(), delivery(), settings(), utcnow)


def reset() -> None:
    """Forget settings, clients and adapters (the next call reads the environment again)."""
    caches = (client, objects, uploads, connections, delivery, references, _file_tokens, get_settings)
    for cached in caches:
        cached.cache_clear()
