"""WebSocket logic: who may connect, and a subscribe that misses nothing.

`$connect` admits a connection only with the token that created the upload. `subscribe` first adds the
connection to the upload's subscriber set, then replays the stored messages after `afterSeq`. Delivery reserves a
stage and reads the subscriber set in one atomic update, so each stage is either pushed live to this connection
or visible to the replay (possibly both: clients drop a `seq` they already have). A gone connection is deleted.

A replay can be a thousand frames for a 40-byte request, so it happens once per connection, from the first
subscribe's `afterSeq` (a client resuming reconnects, which checks its token again); a later `subscribe` on the
same connection replays nothing, and a connection gets at most `MAX_SUBSCRIBES_PER_CONNECTION` subscribes: the next
one is told `rate_limited` once, and later ones are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import ErrorMessage, dump_message

from uptrack_service.api.inbound import request_token
from uptrack_service.api.upload_service import owned_upload
from uptrack_service.delivery import Delivery, encode
from uptrack_service.keys import UPLOAD_ID_RE
from uptrack_service.models import Connection, upload_not_found
from uptrack_service.observability import logger, metrics
from uptrack_service.ports import ConnectionStore, UploadStore
from uptrack_service.settings import ServiceSettings

SUBSCRIBE: Final = "subscribe"


class SubscribeRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    action: str
    upload_id: str | None = Field(default=None, alias="uploadId", pattern=UPLOAD_ID_RE)
    after_seq: int = Field(default=0, alias="afterSeq", ge=0)


@dataclass
class SubscriptionDeps:
    uploads: UploadStore
    connections: ConnectionStore
    delivery: Delivery
    settings: ServiceSettings
    now: Callable[[], datetime]


class ConnectRefusedError(Exception):
    def __init__(self, status: int, error: UptrackError) -> None:
        super().__init__(error.message)
        self.status = status
        self.error = error


def connect(
    connection_id: str, headers: Mapping[str, str], query: Mapping[str, str], deps: SubscriptionDeps
) -> Connection:
    """Admit a connection for one upload; raises ConnectRefusedError (401 no token, 400 no `uploadId` or two
    different tokens, 403 anything else: another token's upload reads like an unknown one)."""
    try:
        token = request_token(headers, query.items())
    except UptrackError as error:
        raise ConnectRefusedError(400, error) from None
    if not token:
        raise ConnectRefusedError(401, UptrackError(ErrorCode.MISSING_TOKEN, "Missing token=YOUR_API_KEY."))
    upload_id = query.get("uploadId") or query.get("upload_id")
    if not upload_id:
        missing = UptrackError(ErrorCode.INVALID_PARAMS, "Missing uploadId=UPLOAD_ID.", {"params": ["uploadId"]})
        raise ConnectRefusedError(400, missing)
    try:
        record = owned_upload(deps.uploads, upload_id, token)
    except UptrackError as error:
        raise ConnectRefusedError(403, error) from None
    now = deps.now()
    connection = Connection(
        connection_id=connection_id,
        upload_id=record.upload_id,
        token_id=record.token_id,
        connected_at=now,
        expires_at=int((now + timedelta(seconds=deps.settings.connection_ttl_s)).timestamp()),
    )
    deps.connections.put(connection)
    metrics.add_metric(name="Connections", unit="Count", value=1)
    return connection


def disconnect(connection_id: str, deps: SubscriptionDeps) -> None:
    connection = deps.connections.delete(connection_id)
    if connection is not None:
        deps.uploads.unsubscribe(connection.upload_id, connection_id)


def _tell(deps: SubscriptionDeps, upload_id: str, connection_id: str, error: UptrackError) -> None:
    frame = encode(dump_message(ErrorMessage.from_error(error, upload_id=upload_id or None)))
    deps.delivery.send(upload_id, connection_id, [frame])


def _admitted(deps: SubscriptionDeps, upload_id: str, connection_id: str) -> int:
    """This subscribe's number on its connection, or 0 past the per-connection limit (told once, then silence)."""
    count = deps.connections.count_subscribe(connection_id)
    limit = deps.settings.max_subscribes_per_connection
    if count == limit + 1:
        message = f"Too many subscribe messages on this connection (at most {limit}); reconnect to start over."
        _tell(deps, upload_id, connection_id, UptrackError(ErrorCode.RATE_LIMITED, message, {"limit": limit}))
    return count if count <= limit else 0


def subscribe(connection_id: str, body: Mapping[str, Any], deps: SubscriptionDeps) -> int:
    """Start live delivery, then replay what is stored after `afterSeq` (on a connection's first subscribe only);
    returns how many messages were replayed."""
    connection = deps.connections.get(connection_id)
    if connection is None:
        logger.warning("subscribe from an unknown connection", extra={"connection_id": connection_id})
        return 0
    upload_id = connection.upload_id
    count = _admitted(deps, upload_id, connection_id)
    if not count:
        return 0
    try:
        request = SubscribeRequest.model_validate(body)
    except ValidationError:
        _tell(deps, upload_id, connection_id, UptrackError(ErrorCode.INVALID_PARAMS, "Malformed subscribe message."))
        return 0
    if request.action != SUBSCRIBE:
        error = UptrackError(ErrorCode.INVALID_PARAMS, f'Unknown action; send {{"action": "{SUBSCRIBE}"}}.')
        _tell(deps, upload_id, connection_id, error)
        return 0
    if request.upload_id is not None and request.upload_id != upload_id:
        _tell(deps, upload_id, connection_id, upload_not_found())
        return 0
    if not deps.uploads.subscribe(upload_id, connection_id, deps.settings.max_subscribers):
        error = UptrackError(ErrorCode.INVALID_PARAMS, "Too many subscribers for this upload.")
        _tell(deps, upload_id, connection_id, error)
        return 0
    record = deps.uploads.get(upload_id)
    if record is None or count > 1:
        return 0
    replay = list(deps.delivery.stored(record, request.after_seq, wait_s=deps.delivery.limits.segment_wait_s))
    frames = [deps.delivery.sendable(upload_id, wire, deps.delivery.limits.ws_bytes) for wire in replay]
    deps.delivery.send(upload_id, connection_id, frames)
    logger.info("subscribed", extra={"upload_id": upload_id, "replayed": len(frames)})
    return len(frames)
