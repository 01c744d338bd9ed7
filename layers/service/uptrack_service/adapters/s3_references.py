"""`ReferenceStore` (uptrack.reference.store) over the uploads bucket: one JSON document per reference movement.

Keys are `signatures/{owner}/{id}.json` (`models.signature_key`) with the owner being the token's hash, so a
reference is only ever looked for under the caller's own prefix: another owner's id is simply not there, and
reads exactly like an unknown id (`reference_not_found`). The document's own `owner` is checked again on read.
`signatures/` has no lifecycle rule: references live until they are deleted.

The zip functions (POST /uploads, GET /references/{id}) use `exists` and `summary` only, which never import the
core's `uptrack.reference.signature` (numpy): that module is imported lazily by the methods that build signatures.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError
from uptrack.reference.store import REFERENCE_ID, reference_not_found

from uptrack_service.adapters.s3_store import is_missing_key
from uptrack_service.keys import SIGNATURE_PREFIX, signature_key

if TYPE_CHECKING:
    from uptrack.reference.signature import ReferenceMovement

_OWNER_RE: Final = re.compile(r"^[A-Za-z0-9_.@-]{1,200}$")
SUMMARY_FIELDS: Final = ("id", "name", "created_at", "model", "start_ms", "end_ms", "hz", "version")


def _owner_prefix(owner: str) -> str:
    if not _OWNER_RE.fullmatch(owner):
        raise ValueError("a reference owner must be a plain identifier (the token hash)")
    return f"{SIGNATURE_PREFIX}{owner}/"


class S3ReferenceStore:
    """Reference movements in S3, scoped by owner. Needs s3:GetObject/PutObject/DeleteObject on `signatures/*`;
    without s3:ListBucket S3 answers 403 instead of 404 for a missing key, which reads as missing too."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def _key(self, reference_id: str, owner: str) -> str | None:
        """The document's key, or None for an id that cannot be one of ours (it must not reach S3)."""
        _owner_prefix(owner)
        return signature_key(owner, reference_id) if REFERENCE_ID.fullmatch(reference_id) else None

    def _document(self, reference_id: str, owner: str) -> dict[str, Any] | None:
        key = self._key(reference_id, owner)
        if key is None:
            return None
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_missing_key(exc):
                return None
            raise
        try:
            document = json.loads(response["Body"].read())
        except ValueError:
            return None
        if not isinstance(document, dict) or document.get("owner") != owner or document.get("id") != reference_id:
            return None
        return document

    # -- the cheap side (zip functions) -----------------------------------------------------------------------------

    def exists(self, reference_id: str, owner: str) -> bool:
        key = self._key(reference_id, owner)
        if key is None:
            return False
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_missing_key(exc):
                return False
            raise
        return True

    def summary(self, reference_id: str, owner: str) -> dict[str, Any] | None:
        """The stored reference without its signature frames (None when this owner has no such reference)."""
        document = self._document(reference_id, owner)
        if document is None:
            return None
        described: dict[str, Any] = {name: document[name] for name in SUMMARY_FIELDS if name in document}
        frames = document.get("frames")
        hz = float(document.get("hz") or 0)
        if isinstance(frames, list) and frames and hz > 0:
            described["duration_ms"] = round(1000.0 * (len(frames) - 1) / hz)
        return described

    # -- ReferenceStore ---------------------------------------------------------------------------------------------

    def put(self, movement: ReferenceMovement) -> None:
        key = self._key(movement.id, movement.owner)
        if key is None:
            raise ValueError("invalid reference id")
        self._client.put_object(
            Bucket=self.bucket, Key=key, Body=movement.model_dump_json().encode("utf-8"), ContentType="application/json"
        )

    def get(self, reference_id: str, owner: str) -> ReferenceMovement:
        from uptrack.reference.signature import ReferenceMovement

        document = self._document(reference_id, owner)
        if document is None:
            raise reference_not_found(reference_id)
        try:
            return ReferenceMovement.model_validate(document)
        except ValueError:
            raise reference_not_found(reference_id) from None

    def list_references(self, owner: str | None = None) -> list[ReferenceMovement]:
        """This owner's references, oldest first (an owner is required: there is no cross-tenant listing)."""
        from uptrack.reference.signature import ReferenceMovement

        if owner is None:
            raise ValueError("S3ReferenceStore lists one owner's references only")
        found = []
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=_owner_prefix(owner))
        for page in pages:
            for entry in page.get("Contents", []):
                reference_id = str(entry["Key"]).rsplit("/", 1)[-1].removesuffix(".json")
                document = self._document(reference_id, owner)
                if document is None:
                    continue
                try:
                    found.append(ReferenceMovement.model_validate(document))
                except ValueError:
                    continue
        return sorted(found, key=lambda movement: movement.created_at)

    def delete(self, reference_id: str, owner: str) -> None:
        key = self._key(reference_id, owner)
        if key is None or not self.exists(reference_id, owner):
            raise reference_not_found(reference_id)
        self._client.delete_object(Bucket=self.bucket, Key=key)
