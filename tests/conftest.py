"""Shared fixtures: where the shared real media live, and the manifest's expectations."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.support.paths import MEDIA


@pytest.fixture(scope="session")
def media_dir() -> Path:
    if not (MEDIA / "MANIFEST.csv").is_file():
        pytest.skip(f"shared media not found at {MEDIA}")
    return MEDIA


@pytest.fixture(scope="session")
def manifest(media_dir: Path) -> list[dict[str, str]]:
    with (media_dir / "MANIFEST.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))
