"""The catalogue is complete, self-consistent data, and the contract parser resolves ids against it."""

from __future__ import annotations

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import parse_query
from uptrack.exercises import duration_exercise_ids, exercise_ids, get_exercise
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import DEFAULT_BAR, EXERCISES, ExerciseDefinition
from uptrack.exercises.signals import SIGNALS
from uptrack.pose.keypoints import COCO_KEYPOINTS

from tests.unit.exercises.stick_figures import forearm_plank, series, squat_knees, standing

REPETITION = {
    "squat", "push_up", "lunge", "side_lunge", "bicep_curl", "hammer_curl", "jumping_jack", "low_impact_jack",
    "shoulder_press", "lateral_raise", "glute_bridge", "high_knees", "sit_up", "pull_up", "deadlift", "tricep_dip",
    "calf_raise", "mountain_climber", "leg_raise", "back_flexibility_test", "shoulder_roll", "shoulder_deep_breath",
}  # fmt: skip
HOLDS = {
    "plank", "wall_sit", "balance_leg", "balance_leg_left", "balance_leg_right", "side_plank", "chair_forward_fold",
    "chair_side_stretch", "split", "facial_split", "pancake", "closing", "bridge", "cobra", "bow", "tiger", "camel",
    "king_pigeon", "foot_to_hand", "i", "needle",
}  # fmt: skip


def test_catalogue_has_every_required_exercise_with_its_kind() -> None:
    assert exercise_ids() >= REPETITION | HOLDS
    assert duration_exercise_ids() == HOLDS
    assert all(get_exercise(i).kind == "repetition" for i in REPETITION)


def test_unknown_id_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        get_exercise("burpee")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_entry_is_consistent(exercise: ExerciseDefinition) -> None:
    assert exercise.signal_names() <= set(SIGNALS)
    names = {name for group in exercise.required_keypoints for name in group.names}
    assert names <= set(COCO_KEYPOINTS)
    assert exercise.views and exercise.phases
    criteria = {"depth", "tempo"} | {c.name for c in exercise.criteria}
    assert all(cue.criterion in criteria and cue.text for cue in exercise.cues)
    labels = [exercise.criterion_label(name) for name in sorted(criteria)]
    assert all(label and "_" not in label and len(label) <= 24 for label in labels), labels
    assert all(0 < exercise.criterion_bar(name) <= 100 for name in criteria)
    if exercise.is_duration:
        assert exercise.bounds and not exercise.components
    else:
        assert exercise.components and not exercise.bounds


def test_a_criterion_reads_its_label_from_the_catalogue_and_its_bar_from_its_cue() -> None:
    curl = get_exercise("bicep_curl")
    assert [curl.criterion_label(n) for n in ("depth", "tempo", "stability")] == [
        "range of motion",
        "tempo",
        "elbows still",
    ]
    assert (curl.criterion_bar("depth"), curl.criterion_bar("stability"), curl.criterion_bar("symmetry")) == (
        85,
        70,
        DEFAULT_BAR,
    )
    assert get_exercise("wall_sit").criterion_label("depth") == "thighs level"  # the entry's own label wins


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if not e.is_duration], ids=lambda e: e.id)
def test_harder_difficulties_need_more_range_and_the_ideal_is_beyond_hard(exercise: ExerciseDefinition) -> None:
    for component in exercise.components:
        reach = [abs(component.target.at(d) - component.rest) for d in ("easy", "medium", "hard")]
        assert reach == sorted(reach) and reach[0] > 0
        assert abs(component.ideal - component.rest) >= reach[-1]
        assert (component.ideal - component.rest) * (component.target.medium - component.rest) > 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [("face_squat", "squat"), ("side_pushup", "push_up"), ("face_plank", "plank"), ("Face_Lunge", "lunge"),
     ("pushup", "push_up"), ("situp", "sit_up"), ("pullup", "pull_up"), ("face_balance_leg_left", "balance_leg_left")],
)  # fmt: skip
def test_legacy_aliases_resolve_to_catalogue_ids(given: str, expected: str) -> None:
    request = parse_query(
        f"exercise={given}", exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids()
    )
    assert request.exercise == expected


def test_unknown_exercise_is_invalid_exercise_and_legacy_difficulties_map() -> None:
    with pytest.raises(UptrackError) as caught:
        parse_query("exercise=burpee", exercise_ids=exercise_ids())
    assert caught.value.code == ErrorCode.INVALID_EXERCISE
    ids = exercise_ids()
    assert parse_query("exercise=squat&difficulty=normal", exercise_ids=ids).difficulty == "medium"
    assert parse_query("exercise=squat&difficulty=pro", exercise_ids=ids).difficulty == "hard"


def test_min_grade_is_ignored_for_holds() -> None:
    request = parse_query(
        "exercise=plank&minGrade=b", exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids()
    )
    assert request.min_grade is None


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_every_entry_runs_on_a_squat_and_on_a_plank(exercise: ExerciseDefinition) -> None:
    for clip in (series([standing(k) for k in squat_knees([90])]), series([forearm_plank()] * 60)):
        analysis = analyze_exercise(clip, exercise, "medium")
        assert analysis.exercise == exercise.id
