"""Where reference movements live, and the one error for an id that is unknown or another owner's."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final, Protocol

from uptrack.contract.errors import ErrorCode, UptrackError

if TYPE_CHECKING:  # keeps this module free of numpy: the zip functions import it
    from uptrack.reference.signature import ReferenceMovement

REFERENCE_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
"""What a reference id may look like: it names a file or an S3 key, so nothing else may reach either."""


def reference_not_found(reference_id: str) -> UptrackError:
    """The one error for unknown ids and other owners' ids alike, so ids cannot be probed (contract §5.2)."""
    return UptrackError(ErrorCode.REFERENCE_NOT_FOUND, "Reference movement not found.", {"reference": reference_id})


class ReferenceStore(Protocol):
    """Where reference movements live; every read and delete is scoped to an owner."""

    def put(self, movement: ReferenceMovement) -> None: ...

    def get(self, reference_id: str, owner: str) -> ReferenceMovement:
        """The owner's reference; raises the not-found `UptrackError` otherwise."""
        ...

    def list_references(self, owner: str | None = None) -> list[ReferenceMovement]: ...

    def delete(self, reference_id: str, owner: str) -> None:
        """Remove the owner's reference; raises the not-found `UptrackError` otherwise."""
        ...
