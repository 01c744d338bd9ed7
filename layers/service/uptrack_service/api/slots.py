"""Uploads in flight per token: the plan's limit on parallel work (`MAX_UPLOADS_IN_FLIGHT`), held from admission on.

Each admitted upload adds a slot, `{upload_id}@{epoch seconds}`, to its token's in-flight set, atomically and only
while the set is below the limit (the token store's `claim_slot`). Nothing removes a slot when an upload ends:
when the set is full, the slots of uploads that no longer run are released and the claim is tried once more. An
upload holds its slot until it completes or fails, until its presigned PUT can no longer start (nothing was sent),
or for `LONGEST_UPLOAD_S` at most (a lost execution never blocks its token for good). So a refusal means the token
really has that many uploads running, and no finished upload ever needs a write to free its slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.plans import MAX_UPLOADS_IN_FLIGHT
from uptrack.contract.tokens import TokenRecord, TokenStore

from uptrack_service.models import TERMINAL, Status, UploadRecord
from uptrack_service.ports import UploadStore
from uptrack_service.settings import ServiceSettings

LONGEST_UPLOAD_S: Final = 3600
"""An upload unfinished after an hour (the analysis of a 10-minute video takes minutes) no longer holds a slot."""
PUT_GRACE_S: Final = 900
"""A PUT that started just before its URL expired may still be streaming this long after."""
CREATING_S: Final = 60
"""A slot whose upload record is not there yet: its admission is still running."""


def slot_of(upload_id: str, now: datetime) -> str:
    return f"{upload_id}@{int(now.timestamp())}"


def _still_running(slot: str, uploads: UploadStore, now: datetime, settings: ServiceSettings) -> bool:
    upload_id, _, claimed = slot.partition("@")
    age_s = now.timestamp() - int(claimed) if claimed.isdigit() else LONGEST_UPLOAD_S
    if age_s >= LONGEST_UPLOAD_S:
        return False
    record = uploads.get(upload_id)
    if record is None:
        return age_s < CREATING_S
    return record.status not in TERMINAL and not _never_sent(record, now, settings)


def _never_sent(record: UploadRecord, now: datetime, settings: ServiceSettings) -> bool:
    put_window = timedelta(seconds=settings.upload_url_expiry_s + PUT_GRACE_S)
    return record.status is Status.AWAITING_UPLOAD and now > record.created_at + put_window


def hold_slot(
    token: TokenRecord,
    upload_id: str,
    tokens: TokenStore,
    uploads: UploadStore,
    now: datetime,
    settings: ServiceSettings,
) -> str:
    """Claim an in-flight slot for this upload; raises `too_many_uploads` (nothing charged) when the plan's limit
    is reached by uploads that are still running. Returns the slot (released again if admission fails later)."""
    limit = MAX_UPLOADS_IN_FLIGHT[token.plan]
    slot = slot_of(upload_id, now)
    if tokens.claim_slot(token.token_hash, slot, limit):
        return slot
    held = tokens.get(token.token_hash)
    ended = [s for s in (held.in_flight if held else ()) if not _still_running(s, uploads, now, settings)]
    tokens.release_slots(token.token_hash, ended)
    if ended and tokens.claim_slot(token.token_hash, slot, limit):
        return slot
    raise UptrackError(
        ErrorCode.TOO_MANY_UPLOADS,
        f"This token already has {limit} uploads in flight (its plan's limit); retry when one has finished.",
        {"limit": limit},
    )
