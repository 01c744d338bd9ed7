"""The text report of `uptrack analyze`/`upload`: the summary a person reads, built from contract messages."""

from __future__ import annotations

import io
from typing import Any

from uptrack.exercises.catalogue import EXERCISES
from uptrack_service.cli.commands.exercises import id_list, rows
from uptrack_service.cli.output import TextReport, error_line, failed_criterion


def report(messages: list[dict[str, Any]], hold: bool = False, outputs: dict[str, str] | None = None) -> str:
    stream = io.StringIO()
    text = TextReport("clip.mp4", hold, stream)
    for message in messages:
        text.show(message)
    text.close(outputs or {})
    return stream.getvalue()


def rep(count: int, at_ms: int, grade: str, score: float, **extra: Any) -> dict[str, Any]:
    form = {"score": score, "avg_score": score, "grade": grade, **extra}
    return {"type": "counter", "timestampMs": at_ms, "current_count": count, "form_score": form}


def criterion(name: str, label: str, score: float, bar: float = 70.0) -> dict[str, Any]:
    return {"name": name, "label": label, "score": score, "bar": bar}


def test_reps_are_listed_with_grade_score_and_the_criterion_they_failed() -> None:
    swing = [criterion("depth", "range of motion", 100.0, 85.0), criterion("stability", "elbows still", 31.4)]
    text = report(
        [
            rep(1, 3300, "A", 96.0, criteria=[criterion("depth", "range of motion", 98.0, 85.0)]),
            rep(2, 6400, "D", 65.7, criteria=swing, failed_criterion="stability"),
            {"type": "counter", "current_count": 2, "final": True},
            {"type": "exercise_summary", "exercise": "bicep_curl", "counter": 2, "grade": "C", "avg_rep_score": 80.9},
        ],
        outputs={"plot": "curl.png"},
    )
    lines = text.splitlines()
    assert lines[0] == "clip.mp4 · bicep_curl · 2 reps · grade C (score 81)"
    assert lines[1].split() == ["rep", "at", "grade", "score", "failed"]
    assert lines[2].split() == ["1", "3.3", "s", "A", "96", "-"]
    assert lines[3].split() == ["2", "6.4", "s", "D", "66", "elbows", "still", "31"]
    assert "plot     curl.png" in lines


def test_a_hold_is_in_seconds() -> None:
    ticks = [{"type": "counter", "timestampMs": 1000 * s, "current_count": s} for s in (1, 2, 3)]
    summary = {"type": "exercise_summary", "exercise": "plank", "counter": 3, "grade": "B", "avg_rep_score": 80}
    text = report([*ticks, {"type": "counter", "current_count": 3, "final": True}, summary], hold=True)
    assert text.splitlines()[0] == "clip.mp4 · plank · held 3 s · grade B (score 80)"


def test_nothing_counted_hints_at_the_exercise_unless_a_warning_explains_it() -> None:
    summary = {"type": "exercise_summary", "exercise": "squat", "counter": 0}
    assert "is squat the right exercise?" in report([summary])
    warning = {"type": "warning", "code": "media_truncated", "message": "Only the first 1.2 s could be decoded."}
    text = report([warning, summary])
    assert "right exercise" not in text
    assert text.splitlines()[0].startswith("warning: media_truncated"), "warnings come before the summary"


def test_an_error_names_the_ids_it_probably_meant() -> None:
    error = {"type": "error", "code": "invalid_exercise", "message": "Unknown exercise: squats"}
    assert "did you mean squat?" in error_line({**error, "details": {"suggestions": ["squat"]}})
    assert "`uptrack exercises`" in error_line(error)


def test_the_failed_criterion_is_read_from_the_message_not_guessed() -> None:
    measured = [criterion("depth", "range of motion", 60.0, 85.0), criterion("tempo", "tempo", 50.0)]
    assert failed_criterion({"score": 80, "criteria": measured}) is None  # the service said none failed
    assert failed_criterion({"criteria": measured, "failed_criterion": "depth"}) == "range of motion 60"
    assert failed_criterion({"failed_criterion": "lockout"}) == "lockout"  # a sender without the scores


def test_the_exercise_table_covers_the_catalogue() -> None:
    table = rows()
    assert [r.id for r in table] == [e.id for e in EXERCISES]
    squat = next(r for r in table if r.id == "squat")
    assert "face_squat" in squat.aliases and squat.kind == "reps" and squat.views == ["front", "side"]
    plank = next(r for r in table if r.id == "plank")
    assert plank.kind == "hold" and plank.measures.startswith("seconds held")
    assert all(e.id in id_list() for e in EXERCISES)
