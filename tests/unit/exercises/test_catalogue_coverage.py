"""The newer catalogue entries on anatomical figures: every PoseTracker id is accepted, the repetition entries count
clean reps and reject half reps, the holds count seconds in their pose and coach the person into it."""

from __future__ import annotations

import numpy as np
import pytest
from uptrack.contract.messages import PostureMessage
from uptrack.contract.params import EXERCISE_ALIASES, AnalysisRequest, parse_query
from uptrack.exercises import duration_exercise_ids, exercise_ids, get_exercise
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.session import exercise_messages

from tests.unit.exercises.catalogue_motions import HOLD_POSES, REP_SECONDS, REPS, mountain_climber, prone
from tests.unit.exercises.motions import MOTIONS
from tests.unit.exercises.stick_figures import Frame, series
from tests.unit.exercises.test_exercise_motions import performance

VENDOR_IDS = (
    "squat", "push_up", "lunge", "side_lunge", "deadlift", "bicep_curl", "hammer_curl", "tricep_dip",
    "shoulder_press", "lateral_raise", "glute_bridge", "calf_raise", "mountain_climber", "high_knees",
    "jumping_jack", "low_impact_jack", "leg_raise", "plank", "wall_sit", "balance_leg", "balance_leg_left",
    "balance_leg_right", "shoulder_roll", "shoulder_deep_breath", "chair_forward_fold", "chair_side_stretch",
    "split", "facial_split", "pancake", "closing", "bridge", "cobra", "bow", "tiger", "camel", "king_pigeon",
    "foot_to_hand", "i", "needle", "back_flexibility_test", "jump_analysis", "air_time_jump",
)  # fmt: skip
"""PoseTracker's public catalogue (contract §4.1), in its order."""

FPS = 30.0


def test_the_catalogue_has_all_42_vendor_ids_and_the_pixel_side_plank() -> None:
    assert len(set(VENDOR_IDS)) == 42
    assert set(VENDOR_IDS) | {"side_plank"} <= exercise_ids()


@pytest.mark.parametrize("given", [*VENDOR_IDS, "side_plank", *EXERCISE_ALIASES])
def test_every_id_and_alias_is_accepted(given: str) -> None:
    query = f"exercise={given}" + ("&userHeightCm=175" if given == "jump_analysis" else "")
    request = parse_query(query, exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())
    assert request.exercise == EXERCISE_ALIASES.get(given, given)


def test_new_repetition_entries_all_have_a_figure() -> None:
    new = {e for e in exercise_ids() - {"jump_analysis", "air_time_jump"} if not get_exercise(e).is_duration}
    assert new - set(MOTIONS) - {"high_knees"} == set(REPS)


@pytest.mark.parametrize("exercise_id", sorted(REPS))
def test_clean_reps_count_and_a_half_rep_does_not(exercise_id: str) -> None:
    frames = performance(REPS[exercise_id], [1.0, 1.0, 0.65, 1.0], REP_SECONDS.get(exercise_id, 2.0))
    analysis = analyze_exercise(series(frames), get_exercise(exercise_id), "medium")
    assert [r.reason for r in analysis.candidates] == ["counted", "counted", "shallow", "counted"]
    assert analysis.candidates[2].score < min(r.score for r in analysis.reps)


@pytest.mark.parametrize("exercise_id", sorted(REPS))
def test_standing_still_in_the_start_position_counts_nothing(exercise_id: str) -> None:
    still = [REPS[exercise_id](0.0)] * 120
    assert analyze_exercise(series(still), get_exercise(exercise_id), "medium").candidates == ()


def test_mountain_climbers_count_every_knee_drive_of_either_leg() -> None:
    frames = [mountain_climber(0.0)] * 30
    for drive in range(8):
        frames += [mountain_climber(float(np.sin(np.pi * t)), drive % 2 == 0) for t in np.linspace(0, 1, 12)]
    assert len(analyze_exercise(series(frames), get_exercise("mountain_climber"), "medium").reps) == 8


def _hold_clip(pose: Frame) -> list[Frame]:
    standing_still = MOTIONS["jumping_jack"](0.0)
    return [standing_still] * 30 + [pose] * 130 + [standing_still] * 30


@pytest.mark.parametrize("exercise_id", sorted(HOLD_POSES))
def test_holds_count_seconds_in_their_pose_and_not_standing(exercise_id: str) -> None:
    exercise = get_exercise(exercise_id)
    analysis = analyze_exercise(series(_hold_clip(HOLD_POSES[exercise_id])), exercise, "medium")
    assert analysis.hold_seconds == 4
    assert analysis.hold_score is not None
    assert analyze_exercise(series([MOTIONS["jumping_jack"](0.0)] * 150), exercise, "medium").hold_seconds == 0


@pytest.mark.parametrize("exercise_id", sorted(HOLD_POSES))
def test_every_hold_condition_coaches_with_a_cue(exercise_id: str) -> None:
    assert all(bound.cue for bound in get_exercise(exercise_id).bounds)


def test_a_hold_not_yet_reached_sends_its_cues_as_posture_messages() -> None:
    lying = series([prone()] * 60 + [HOLD_POSES["cobra"]] * 130)
    messages = exercise_messages(lying, AnalysisRequest(exercise="cobra"), get_exercise("cobra"))
    cues = [m for m in messages if isinstance(m, PostureMessage) and not m.ready and m.requirements]
    assert cues and "Lift your chest off the mat." in cues[0].message
    assert "torso_incline" in cues[0].requirements
    first_counter = next(m for m in messages if m.model_dump().get("type") == "counter")
    assert all((m.timestamp_ms or 0) <= (first_counter.timestamp_ms or 0) for m in cues)
