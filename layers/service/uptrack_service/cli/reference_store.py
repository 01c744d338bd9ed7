"""The CLI's reference store: one JSON document per reference in a folder (`$UPTRACK_HOME/references`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from uptrack.files import write_text_atomic
from uptrack.reference.signature import ReferenceMovement
from uptrack.reference.store import REFERENCE_ID, reference_not_found


class LocalReferenceStore:
    """One JSON document per reference; writes are atomic (temporary file, then rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, reference_id: str) -> Path | None:
        """The file of an id, or None for an id that could not be ours (and must not reach the file system)."""
        return self.folder / f"{reference_id}.json" if REFERENCE_ID.fullmatch(reference_id) else None

    def put(self, movement: ReferenceMovement) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.folder / f"{movement.id}.json", movement.model_dump_json())

    def get(self, reference_id: str, owner: str) -> ReferenceMovement:
        path = self._path(reference_id)
        if path is None or not path.is_file():
            raise reference_not_found(reference_id)
        movements = _readable([path])
        if not movements or movements[0].owner != owner:
            raise reference_not_found(reference_id)
        return movements[0]

    def list_references(self, owner: str | None = None) -> list[ReferenceMovement]:
        movements = _readable(self.folder.glob("*.json")) if self.folder.is_dir() else []
        mine = [m for m in movements if owner is None or m.owner == owner]
        return sorted(mine, key=lambda m: m.created_at)

    def delete(self, reference_id: str, owner: str) -> None:
        self.get(reference_id, owner)
        path = self._path(reference_id)
        if path is not None:
            path.unlink()


def _readable(paths: Iterable[Path]) -> list[ReferenceMovement]:
    """Stored references, skipping files that are not (a half-copied folder must not break `list`)."""
    movements = []
    for path in paths:
        try:
            movements.append(ReferenceMovement.model_validate_json(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return movements
