"""JSON Schemas of the wire contract, generated from the models and committed under docs/schemas/.

Client developers read the schemas without Python; the committed copies are checked in CI so they never drift:

    python -m uptrack.contract.schemas --write docs/schemas
    python -m uptrack.contract.schemas --check docs/schemas   # exit 1 when stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import TypeAdapter

from uptrack.contract.messages import MESSAGE_TYPES, Message
from uptrack.contract.params import AnalysisRequest

DEFAULT_DIR: Final = Path("docs/schemas")


def generate() -> dict[str, dict[str, Any]]:
    """File name → schema: the request (validation view, query names), each message and the `Message` union
    (serialisation view, wire names)."""
    schemas: dict[str, dict[str, Any]] = {
        "analysis_request.json": AnalysisRequest.model_json_schema(by_alias=True, mode="validation"),
        "message.json": TypeAdapter(Message).json_schema(by_alias=True, mode="serialization"),
    }
    for model in MESSAGE_TYPES:
        message_type = model.model_fields["type"].default
        schemas[f"{message_type}.json"] = model.model_json_schema(by_alias=True, mode="serialization")
    return schemas


def render(schema: Mapping[str, Any]) -> str:
    """Stable text (sorted keys, trailing newline) so regenerating an unchanged contract changes no byte."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(directory: Path) -> list[Path]:
    """(Re)write every schema, delete stale `*.json` left by removed messages; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    schemas = generate()
    for leftover in set(directory.glob("*.json")) - {directory / name for name in schemas}:
        leftover.unlink()
    for name, schema in schemas.items():
        (directory / name).write_text(render(schema), encoding="utf-8")
    return sorted(directory / name for name in schemas)


def stale(directory: Path) -> list[str]:
    """Names of schema files that are missing, outdated or no longer generated; empty when up to date."""
    expected = {name: render(schema) for name, schema in generate().items()}
    present = {path.name for path in directory.glob("*.json")}
    outdated = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(outdated + sorted(present - expected.keys()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m uptrack.contract.schemas", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, nargs="?", const=DEFAULT_DIR, metavar="DIR")
    action.add_argument("--check", type=Path, nargs="?", const=DEFAULT_DIR, metavar="DIR")
    args = parser.parse_args(argv)
    if args.write is not None:
        for path in write(args.write):
            print(path)
        return 0
    outdated = stale(args.check)
    for name in outdated:
        print(f"stale: {args.check / name}", file=sys.stderr)
    if outdated:
        print("run: python -m uptrack.contract.schemas --write docs/schemas", file=sys.stderr)
    return 1 if outdated else 0


if __name__ == "__main__":
    sys.exit(main())
