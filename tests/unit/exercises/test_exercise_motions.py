"""Every catalogue exercise counts clean synthetic reps, rejects a half rep, ignores standing still, and holds
count seconds: a check that each entry's signals, directions and thresholds agree with plain anatomy."""

from __future__ import annotations

import numpy as np
import pytest
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import EXERCISES, get_exercise

from tests.unit.exercises.catalogue_motions import REPS
from tests.unit.exercises.motions import HOLDS, MOTIONS, Pose, high_knees
from tests.unit.exercises.stick_figures import Frame, series

FPS = 30.0


def performance(pose: Pose, phases: list[float], rep_s: float, rest_s: float = 1.0) -> list[Frame]:
    """Rest, then one rep to each phase (smooth out and back), resting between reps."""
    frames = [pose(0.0)] * int(rest_s * FPS)
    for peak in phases:
        frames += [pose(peak * float(np.sin(np.pi * t) ** 2)) for t in np.linspace(0, 1, int(rep_s * FPS))]
        frames += [pose(0.0)] * int(rest_s * FPS)
    return frames


def test_every_repetition_exercise_has_a_motion() -> None:
    repetition = {e.id for e in EXERCISES if not e.is_duration}
    assert repetition == set(MOTIONS) | {"high_knees"} | set(REPS)  # REPS: the newer entries' own tests


@pytest.mark.parametrize("exercise_id", sorted(MOTIONS))
def test_clean_reps_count_and_a_half_rep_does_not(exercise_id: str) -> None:
    rep_s = 1.0 if "jack" in exercise_id else 2.0
    frames = performance(MOTIONS[exercise_id], [1.0, 1.0, 0.65, 1.0], rep_s)
    analysis = analyze_exercise(series(frames), get_exercise(exercise_id), "medium")
    assert [r.reason for r in analysis.candidates] == ["counted", "counted", "shallow", "counted"]
    assert all(r.score >= 80 for r in analysis.reps)
    assert analysis.candidates[2].score < min(r.score for r in analysis.reps)


@pytest.mark.parametrize("exercise_id", sorted(MOTIONS))
def test_standing_still_in_the_start_position_counts_nothing(exercise_id: str) -> None:
    still = [MOTIONS[exercise_id](0.0)] * 120
    assert analyze_exercise(series(still), get_exercise(exercise_id), "medium").candidates == ()


def test_high_knees_count_every_knee_drive() -> None:
    frames = [high_knees(0.0, True)] * 30
    for drive in range(8):
        frames += [high_knees(float(np.sin(np.pi * t)), drive % 2 == 0) for t in np.linspace(0, 1, 15)]
    analysis = analyze_exercise(series(frames), get_exercise("high_knees"), "medium")
    assert len(analysis.reps) == 8


@pytest.mark.parametrize("exercise_id", sorted(HOLDS))
def test_holds_count_seconds_in_position_and_not_standing(exercise_id: str) -> None:
    standing_still = MOTIONS["jumping_jack"](0.0)
    frames = [standing_still] * 30 + [HOLDS[exercise_id]] * 130 + [standing_still] * 30
    analysis = analyze_exercise(series(frames), get_exercise(exercise_id), "medium")
    assert analysis.hold_seconds == 4
    assert analyze_exercise(series([standing_still] * 150), get_exercise(exercise_id), "medium").hold_seconds == 0


def test_balancing_on_the_wrong_leg_is_not_held() -> None:
    analysis = analyze_exercise(series([HOLDS["balance_leg_right"]] * 150), get_exercise("balance_leg_left"), "medium")
    assert analysis.hold_seconds == 0
