"""Photo mode warns `multiple_people` when the photo shows several people: the manifest's labels are the truth."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from uptrack.contract.messages import WarningMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.pipeline import image_messages
from uptrack.pose.engine import EngineSettings, create_estimator
from uptrack.pose.people import MULTIPLE_PEOPLE

SEVERAL = re.compile(r"multi-person|two people")


def _warned(path: Path, model: str) -> bool:
    messages = image_messages(path, AnalysisRequest(source="image"), create_estimator(EngineSettings(model=model)))
    return any(isinstance(m, WarningMessage) and m.code == MULTIPLE_PEOPLE for m in messages)


def _photos(manifest: list[dict[str, str]], several: bool) -> list[str]:
    rows = [row for row in manifest if row["exercise"].startswith("photo")]
    return [row["file"] for row in rows if bool(SEVERAL.search(row["exercise"])) == several]


@pytest.mark.parametrize("model", ["movenet_lightning", "blazepose_full"])
def test_no_single_person_photo_warns(media_dir: Path, manifest: list[dict[str, str]], model: str) -> None:
    singles = _photos(manifest, several=False)
    assert len(singles) >= 5
    assert [name for name in singles if _warned(media_dir / name, model)] == []


def test_most_multi_person_photos_warn(media_dir: Path, manifest: list[dict[str, str]]) -> None:
    """Measured 3 of 4: people much smaller than the photo's short side stay below the detector's reach."""
    groups = _photos(manifest, several=True)
    assert len(groups) >= 4
    warned = [name for name in groups if _warned(media_dir / name, "movenet_lightning")]
    assert len(warned) >= len(groups) - 1
