"""The numbers the docs quote for the stack's settings are the template's and the state machine's.

Targeted on the phrases that quote a setting (the parameter table, `Name=value`, the timeouts), so a changed default
fails here until the docs follow; measured figures (latency, cost) are out of scope.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from uptrack_service.local.asl import rendered
from uptrack_service.local.template import load_template

from tests.support.paths import REPO

UNITS = {"": 1, "s": 1, "MiB": 2**20}
DOCS_QUOTING_DEFAULTS = ("README.md", "docs/deploy.md", "docs/performance.md")


def _template() -> dict[str, Any]:
    template: dict[str, Any] = load_template(REPO / "template.yaml")
    return template


def _defaults() -> dict[str, str]:
    return {name: str(spec.get("Default", "")) for name, spec in _template()["Parameters"].items()}


def _doc_value(cell: str) -> str:
    """A table cell as the template spells it: backticks dropped, `empty` = "", `500 MiB` = bytes."""
    text = cell.strip().strip("`")
    if text == "empty":
        return ""
    quantity = re.fullmatch(r"(\d+) ?(s|MiB)?", text)
    return str(int(quantity[1]) * UNITS[quantity[2] or ""]) if quantity else text


def _parameter_table() -> dict[str, str]:
    """deploy.md's `| `A` / `B` | 1 / 2 | meaning |` rows, one entry per parameter."""
    rows: dict[str, str] = {}
    for line in (REPO / "docs/deploy.md").read_text().splitlines():
        cells = line.split("|")
        if len(cells) < 4 or not cells[1].strip().startswith("`"):
            continue
        names = [name.strip().strip("`") for name in cells[1].split(" / ")]
        values = [_doc_value(value) for value in cells[2].split(" / ")]
        if len(names) == len(values):
            rows.update(zip(names, values, strict=True))
    return rows


def test_the_deploy_table_lists_every_parameter_with_its_default() -> None:
    table = _parameter_table()
    defaults = _defaults()
    assert set(defaults) <= set(table), f"parameters missing from docs/deploy.md: {set(defaults) - set(table)}"
    assert {name: table[name] for name in defaults} == defaults


@pytest.mark.parametrize("doc", DOCS_QUOTING_DEFAULTS)
def test_name_equals_value_quotes_match_the_template(doc: str) -> None:
    defaults = _defaults()
    quoted = re.findall(r"`(\w+)=([^`]*)`", (REPO / doc).read_text())
    checked = {name: value for name, value in quoted if name in defaults}
    assert checked == {name: defaults[name] for name in checked}


def _state_machine() -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(rendered(REPO / "statemachine/analysis.asl.json", REPO / "template.yaml"))
    return definition


def _task_timeouts(node: Any) -> set[int]:
    """Every state's TimeoutSeconds below the top level (the Lambda tasks of the maps)."""
    if isinstance(node, dict):
        found = {node["TimeoutSeconds"]} if "Type" in node and "TimeoutSeconds" in node else set()
        return found.union(*(_task_timeouts(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_task_timeouts(value) for value in node))
    return set()


def test_the_timeouts_deploy_md_quotes() -> None:
    text = (REPO / "docs/deploy.md").read_text()
    machine = _state_machine()
    inference = _template()["Resources"]["InferenceFunction"]["Properties"]
    execution_minutes = {int(m) for m in re.findall(r"state machine's (\d+)-minute timeout", text)}
    execution_minutes |= {int(m) for m in re.findall(r"execution past its (\d+)-minute timeout", text)}
    assert execution_minutes == {machine["TimeoutSeconds"] // 60}
    chunk = re.search(r"a (\d+)-s function timeout \((\d+)-s\s+task timeout\)", text)
    assert chunk is not None, "docs/deploy.md no longer quotes the chunk timeouts"
    assert int(chunk[1]) == inference["Timeout"]
    assert _task_timeouts(machine["States"]) == {int(chunk[2])}


def test_the_memory_performance_md_quotes_is_the_default() -> None:
    text = (REPO / "docs/performance.md").read_text()
    quoted = {int(m.replace(",", "")) for m in re.findall(r"(\d,?\d{3})[- ]MB", text)}
    assert quoted == {int(_defaults()["InferenceMemorySize"])}
