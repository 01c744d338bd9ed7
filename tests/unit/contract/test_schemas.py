"""The committed JSON Schemas are generated from the models and up to date."""

from __future__ import annotations

import json
from pathlib import Path

from uptrack.contract import schemas
from uptrack.contract.messages import MESSAGE_TYPES
from uptrack.contract.params import parse_query, to_query

from tests.support.paths import REPO

COMMITTED = REPO / "docs" / "schemas"


def test_committed_schemas_are_up_to_date() -> None:
    assert schemas.stale(COMMITTED) == [], "run: python -m uptrack.contract.schemas --write docs/schemas"


def test_one_schema_per_message_type_plus_request_and_union() -> None:
    names = {p.name for p in COMMITTED.glob("*.json")}
    expected = {f"{m.model_fields['type'].default}.json" for m in MESSAGE_TYPES}
    assert names == expected | {"analysis_request.json", "message.json"}


def test_write_then_check_round_trip(tmp_path: Path) -> None:
    (tmp_path / "removed_message.json").write_text("{}")
    schemas.write(tmp_path)
    assert schemas.stale(tmp_path) == []
    assert schemas.main(["--check", str(tmp_path)]) == 0
    (tmp_path / "counter.json").write_text("{}")
    (tmp_path / "extra.json").write_text("{}")
    assert schemas.stale(tmp_path) == ["counter.json", "extra.json"]
    assert schemas.main(["--check", str(tmp_path)]) == 1


def test_request_schema_uses_query_names() -> None:
    schema = json.loads((COMMITTED / "analysis_request.json").read_text())
    assert {"token", "isAndroid", "videoSrc", "minGrade", "poseBackend", "runInWorker"} <= set(schema["properties"])
    request = parse_query("exercise=squat&minGrade=b&isAndroid=true", exercise_ids={"squat"})
    assert set(request.model_dump(by_alias=True)) == set(schema["properties"])
    assert parse_query(to_query(request), exercise_ids={"squat"}) == request
