"""`python -m uptrack_service.local.asl FILE`: the state machine with its substitutions filled (for statelint).

Function ARNs get placeholder values and numbers stay numbers, so the output is the JSON Step Functions receives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from uptrack_service.local.template import load_template, state_machine, substitute

PLACEHOLDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:{name}"


def rendered(asl: Path, template: Path, values: dict[str, str] | None = None) -> str:
    """The ASL with the template's substitutions: given `values`, else literals, parameter defaults and placeholder
    ARNs."""
    loaded = load_template(template)
    _, substitutions = state_machine(loaded)
    parameters = loaded.get("Parameters", {})
    filled: dict[str, str] = {}
    for name, value in substitutions.items():
        if values and name in values:
            filled[name] = values[name]
        elif isinstance(value, str | int | float):
            filled[name] = str(value)
        elif isinstance(value, dict) and value.get("Ref") in parameters:
            filled[name] = str(parameters[value["Ref"]]["Default"])
        else:
            filled[name] = PLACEHOLDER_ARN.format(name=name.removesuffix("Arn"))
    text = substitute(asl.read_text(encoding="utf-8"), filled)
    json.loads(text)  # the result must be JSON
    return text


def main(argv: list[str]) -> int:
    asl = Path(argv[0]) if argv else Path("statemachine/analysis.asl.json")
    template = Path(argv[1]) if len(argv) > 1 else Path("template.yaml")
    sys.stdout.write(rendered(asl, template) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
