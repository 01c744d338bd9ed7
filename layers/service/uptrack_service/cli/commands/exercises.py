"""`uptrack exercises`: every exercise id the API and the CLI accept, with what each one counts and grades.

The table comes from the catalogue itself (the entries the engine runs), so it is never out of date: the id to
pass as `exercise=`, whether it counts repetitions or seconds held, the legacy spellings that mean the same, the
camera views it supports and the body measures it follows. `--json` prints the same rows as a JSON array.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

from pydantic import BaseModel
from uptrack.contract.params import EXERCISE_ALIASES
from uptrack.exercises.catalogue import EXERCISES, ExerciseDefinition

VIEW_ORDER = ("front", "side")


class ExerciseRow(BaseModel):
    id: str
    name: str
    kind: str
    aliases: list[str]
    views: list[str]
    measures: str


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "exercises",
        help="list the exercise ids, what each counts and the views it supports",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the rows as a JSON array")
    parser.set_defaults(func=run)


def _words(names: Iterable[str]) -> str:
    return ", ".join(name.replace("_", " ") for name in names)


def measures(exercise: ExerciseDefinition) -> str:
    """What the engine follows for this entry, in words: the signals that make a rep (or a hold) and its grade."""
    if exercise.is_duration:
        return f"seconds held while in range: {_words(bound.signal for bound in exercise.bounds)}"
    graded = [*exercise.weights, *(criterion.name for criterion in exercise.criteria)]
    moving = _words(component.signal for component in exercise.components)
    if exercise.alternative is not None:
        moving += f" (or {_words([exercise.alternative.signal])} when they see none)"
    return f"reps of {moving}; graded on {_words(dict.fromkeys(graded))}"


def rows() -> list[ExerciseRow]:
    aliases: dict[str, list[str]] = {}
    for alias, target in EXERCISE_ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    return [
        ExerciseRow(
            id=e.id,
            name=e.name,
            kind="hold" if e.is_duration else "reps",
            aliases=sorted(aliases.get(e.id, [])),
            views=[view for view in VIEW_ORDER if view in e.views],
            measures=measures(e),
        )
        for e in EXERCISES
    ]


def id_list() -> str:
    """One line per kind, for `--help` and the README: `reps: squat, push_up, …`."""
    table = rows()
    lines = [f"  {kind}: {', '.join(r.id for r in table if r.kind == kind)}" for kind in ("reps", "hold")]
    return "\n".join(lines)


def table(exercise_rows: list[ExerciseRow]) -> str:
    header = ("id", "kind", "aliases", "views", "measures")
    cells = [header] + [
        (r.id, r.kind, ", ".join(r.aliases) or "-", "+".join(r.views), r.measures) for r in exercise_rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in cells
    )


def run(args: argparse.Namespace) -> int:
    exercise_rows = rows()
    if args.json:
        sys.stdout.write(json.dumps([r.model_dump() for r in exercise_rows], indent=2) + "\n")
    else:
        sys.stdout.write(table(exercise_rows) + "\n")
    return 0
