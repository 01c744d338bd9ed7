"""Why a rep got its grade, on real clips, through `uptrack analyze`: every rep's `form_score` carries the criteria
that made it and names the one it failed; the text summary and the plot show it.

The clips' annotations say what was wrong: three curls with the elbows swinging forward, then one strict curl (the
swing is what the curl's `stability` criterion, "elbows still", measures); two leg raises with bent knees, then two
with straight legs (`straight_legs`). The faulty reps must name that criterion and the clean ones nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from uptrack.contract.messages import (
    CounterMessage,
    ExerciseSummaryMessage,
    FormScore,
    FormScoreMessage,
    parse_message,
)
from uptrack.exercises.catalogue import get_exercise
from uptrack_service.tools.plot import LEFT, RIGHT, TOP, WHY_COLOUR, WIDTH

from tests.support.paths import MEDIA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (MEDIA / "MANIFEST.csv").is_file(), reason="shared media not present"),
]

CURL = MEDIA / "bicep_curl" / "curl_bad-form-3_then-good-form_bajpai.mp4"
LEG_RAISE = MEDIA / "leg_raise" / "legraise_lying_side_app-overlay_2bent_2straight_4reps_prakharsingh.mp4"
SWINGING = 3
CASES = {
    "bicep_curl": (CURL, ["stability"] * SWINGING + [None]),
    "leg_raise": (LEG_RAISE, ["straight_legs", "straight_legs", None, None]),
}


def analyze(*options: str, clip: Path = CURL, exercise: str = "bicep_curl") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "uptrack_service.cli.main", "analyze", str(clip), "--exercise", exercise]
    done = subprocess.run([*command, *options], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, list[str | None], list[Any]]:
    exercise: str = request.param
    clip, failed = CASES[exercise]
    lines = analyze("--format", "json", clip=clip, exercise=exercise).stdout.splitlines()
    return exercise, failed, [parse_message(line) for line in lines]


def test_each_rep_carries_its_criteria_and_the_faulty_ones_name_their_fault(
    case: tuple[str, list[str | None], list[Any]],
) -> None:
    exercise, failed, messages = case
    forms = [m for m in messages if isinstance(m, FormScoreMessage)]
    assert [f.failed_criterion for f in forms] == failed
    entry = get_exercise(exercise)
    for form in forms:
        assert form.criteria, "every rep says what it was graded on"
        assert [c.name for c in form.criteria][:2] == ["depth", "tempo"]
        for criterion in form.criteria:
            assert criterion.label == entry.criterion_label(criterion.name)
            assert criterion.bar == entry.criterion_bar(criterion.name)
        below = {c.name: c.score for c in form.criteria if c.score < c.bar}
        assert form.failed_criterion == (min(below, key=below.__getitem__) if below else None)
        assert (form.grade == "A") == (form.failed_criterion is None)  # on these clips: the fault cost the letter


def test_counters_and_the_summary_history_carry_the_same_form(case: tuple[str, list[str | None], list[Any]]) -> None:
    messages = case[2]
    forms = [m for m in messages if isinstance(m, FormScoreMessage)]
    counted = [m.form_score for m in messages if isinstance(m, CounterMessage) and not m.final]
    summary = next(m for m in messages if isinstance(m, ExerciseSummaryMessage))
    as_form = [
        FormScore.model_validate(f.model_dump(exclude={"type", "timestamp_ms", "seq", "upload_id"})) for f in forms
    ]
    assert counted == as_form
    assert [rep.form_score for rep in summary.history] == as_form


def test_the_text_summary_names_the_criterion_each_rep_failed() -> None:
    lines = analyze("--format", "text").stdout.splitlines()
    assert lines[1].split() == ["rep", "at", "grade", "score", "failed"]
    rows = [line.split() for line in lines[2 : 2 + SWINGING + 1]]
    for row in rows[:SWINGING]:
        assert row[3] in {"C", "D"} and row[5:7] == ["elbows", "still"] and 0 <= int(row[7]) < 70
    assert rows[SWINGING][3] == "A" and rows[SWINGING][5:] == ["-"]


def test_the_plot_writes_the_failed_criterion_at_each_rep_below_a(tmp_path: Path) -> None:
    out = tmp_path / "curl.png"
    done = analyze("--format", "json", "--plot", str(out))
    summary = next(m for m in map(parse_message, done.stdout.splitlines()) if isinstance(m, ExerciseSummaryMessage))
    image = cv2.imread(str(out))
    assert image is not None and summary.duration_ms
    end_s = summary.duration_ms / 1000
    for rep in summary.history:
        left, right = (LEFT + round((WIDTH - LEFT - RIGHT) * ms / 1000 / end_s) for ms in (rep.start_ms, rep.end_ms))
        band = image[TOP + 26 : TOP + 50, left:right].astype(int)  # the line under the rep's grade
        ink = int((np.abs(band - np.array(WHY_COLOUR)).max(axis=2) <= 40).sum())
        if rep.grade == "A":
            assert ink == 0, "an A rep is not marked"
        else:
            assert ink >= 100, f"rep {rep.index} ({rep.grade}) is not marked with its failed criterion"
