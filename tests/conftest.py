"""Shared fixtures: where the shared real media live, and the manifest's expectations."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MEDIA = (REPO / ".." / "shared" / "media").resolve()
SAMPLE_VIDEO = REPO / "samples" / "squat_rear_2reps_cc-by-3.0.mp4"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    if not (MEDIA / "MANIFEST.csv").is_file():
        pytest.skip(f"shared media not found at {MEDIA}")
    return MEDIA


@pytest.fixture(scope="session")
def manifest(media_dir: Path) -> list[dict[str, str]]:
    with (media_dir / "MANIFEST.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))
