"""How `uptrack analyze` and `uptrack upload` show an analysis: JSON lines for programs, a report for people.

`--format json` (the default when stdout is piped) prints every contract message as one JSON line on stdout and
nothing else there; a progress bar goes to stderr only when stderr is a terminal and stdout is not, so the two
never share a line. `--format text` (the default in a terminal) keeps one live line (progress, elapsed time, reps
so far, last grade), prints warnings as they come, and ends with a summary: each rep with its time, grade, score
and the criterion it failed, the totals, where the outputs went, and a hint when nothing was counted.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TextIO

Wire = dict[str, Any]
Format = Literal["text", "json"]
FORMATS: tuple[Format, ...] = ("text", "json")


def chosen_format(asked: str | None) -> Format:
    """What `--format` says, else text for a terminal and JSON for a pipe or a file."""
    if asked == "text" or (asked is None and sys.stdout.isatty()):
        return "text"
    return "json"


class Output(Protocol):
    def show(self, wire: Wire) -> None: ...

    def close(self, outputs: Mapping[str, str]) -> None: ...


def make_output(fmt: Format, subject: str, hold: bool = False) -> Output:
    """`hold`: the exercise counts seconds held, and the report says so."""
    return TextReport(subject, hold) if fmt == "text" else JsonLines()


class JsonLines:
    """One message per stdout line; a bar on stderr only where it cannot interleave with the JSON."""

    WIDTH = 30

    def __init__(self) -> None:
        self.bar = sys.stderr.isatty() and not sys.stdout.isatty()

    def show(self, wire: Wire) -> None:
        if self.bar and wire.get("type") == "progress":
            percent = float(wire["percent"])
            filled = round(self.WIDTH * percent / 100)
            sys.stderr.write(f"\ranalysing [{'#' * filled}{'.' * (self.WIDTH - filled)}] {percent:5.1f}%")
            sys.stderr.flush()
        sys.stdout.write(json.dumps(wire, separators=(",", ":"), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def close(self, outputs: Mapping[str, str]) -> None:
        if self.bar:
            sys.stderr.write("\n")


def failed_criterion(form_score: Mapping[str, Any]) -> str | None:
    """What cost a rep its grade, as a person reads it: the label and score of `form_score.failed_criterion`
    (e.g. "elbows still 31"); None when no criterion fell below its bar."""
    name = form_score.get("failed_criterion")
    if not name:
        return None
    measured = {c.get("name"): c for c in form_score.get("criteria") or [] if isinstance(c, Mapping)}
    criterion = measured.get(name, {})
    score = criterion.get("score")
    label = str(criterion.get("label") or name)
    return f"{label} {float(score):.0f}" if isinstance(score, int | float) else label


@dataclass
class _Seen:
    reps: list[Wire] = field(default_factory=list)
    count: int = 0
    last_grade: str | None = None
    percent: float = 0.0
    summary: Wire | None = None
    final: Wire | None = None
    error: Wire | None = None
    warnings: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    pose_found: bool | None = None


class TextReport:
    """A live line while the analysis runs, then a summary a person can read."""

    def __init__(self, subject: str, hold: bool = False, stream: TextIO | None = None) -> None:
        self.subject = subject
        self.hold = hold
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty()
        self.began = time.monotonic()
        self.seen = _Seen()

    def show(self, wire: Wire) -> None:
        kind = wire.get("type")
        seen = self.seen
        if kind == "progress":
            seen.percent = float(wire["percent"])
        elif kind == "counter":
            self._counter(wire)
        elif kind == "exercise_summary":
            seen.summary = wire
        elif kind == "warning":
            seen.warnings.append(str(wire.get("code")))
            self._line(f"warning: {wire.get('code')}: {wire.get('message')}")
        elif kind == "error":
            seen.error = wire
        elif kind == "export_ready":
            seen.outputs["export"] = str(wire.get("url"))
        elif kind == "image_overlay":
            seen.pose_found = True
        self._redraw()

    def _counter(self, wire: Wire) -> None:
        seen = self.seen
        seen.count = int(wire.get("current_count") or 0)
        if wire.get("final"):
            seen.final = wire
            return
        grade = (wire.get("form_score") or {}).get("grade")
        if grade:
            seen.reps.append(wire)
            seen.last_grade = grade

    def _line(self, text: str) -> None:
        """A line above the live one (the live line is redrawn after it)."""
        if self.live:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")

    def _redraw(self) -> None:
        if not self.live:
            return
        seen = self.seen
        parts = [f"analysing {self.subject}", f"{seen.percent:5.1f}%", f"{time.monotonic() - self.began:5.1f} s"]
        parts.append(f"held {seen.count} s" if self.hold else f"{seen.count} reps")
        if seen.last_grade:
            parts.append(f"last grade {seen.last_grade}")
        self.stream.write("\r\033[K" + " · ".join(parts))
        self.stream.flush()

    def close(self, outputs: Mapping[str, str]) -> None:
        if self.live:
            self.stream.write("\r\033[K")
        seen = self.seen
        seen.outputs.update(outputs)
        if seen.error is not None:
            sys.stderr.write(error_line(seen.error) + "\n")
            return
        self.stream.write("\n".join(self._summary()) + "\n")
        self.stream.flush()

    def _summary(self) -> list[str]:
        seen = self.seen
        summary = seen.summary or {}
        lines: list[str] = []
        if seen.pose_found:
            lines.append(f"{self.subject}: pose found and drawn")
        elif self.hold:
            lines.append(f"{self.subject} · {summary.get('exercise')} · held {seen.count} s" + _grade_of(summary))
        else:
            lines.append(f"{self.subject} · {summary.get('exercise', 'pose')} · {seen.count} reps" + _grade_of(summary))
            lines.extend(self._rep_table())
        if seen.count == 0 and summary.get("exercise") and not seen.warnings:
            lines.append(
                f"nothing was counted: is {summary['exercise']} the right exercise? `uptrack exercises` lists "
                "them; `--format json` shows every message."
            )
        lines.extend(f"{name:<8} {where}" for name, where in seen.outputs.items())
        lines.append(f"took {time.monotonic() - self.began:.1f} s")
        return lines

    def _rep_table(self) -> list[str]:
        if not self.seen.reps:
            return []
        rows = [("rep", "at", "grade", "score", "failed")]
        for rep in self.seen.reps:
            score = rep["form_score"]
            rows.append(
                (
                    str(rep.get("current_count")),
                    f"{float(rep.get('timestampMs') or 0) / 1000:.1f} s",
                    str(score.get("grade")),
                    f"{float(score.get('score') or 0):.0f}",
                    failed_criterion(score) or "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]


def _grade_of(summary: Wire) -> str:
    grade = summary.get("grade")
    score = summary.get("avg_rep_score")
    if not grade:
        return ""
    return f" · grade {grade}" + (f" (score {float(score):.0f})" if isinstance(score, int | float) else "")


def error_line(error: Wire) -> str:
    """`uptrack: error: code: message`, with the ids it probably meant when the service suggests some."""
    line = f"uptrack: error: {error.get('code')}: {error.get('message')}"
    suggestions = (error.get("details") or {}).get("suggestions")
    if suggestions:
        line += f" (did you mean {' or '.join(suggestions)}? `uptrack exercises` lists every id)"
    elif error.get("code") == "invalid_exercise":
        line += " (`uptrack exercises` lists every id)"
    return line
