"""`invalid_exercise` says what was probably meant: close ids, aliases resolved, whole words of longer ids."""

from __future__ import annotations

import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.params import exercise_suggestions, parse_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("squats", ["squat"]),
        ("plnk", ["plank"]),
        ("jumpingjack", ["jumping_jack"]),
        ("curl", ["bicep_curl", "hammer_curl"]),
        ("press", ["shoulder_press"]),
        ("moonwalk", []),
    ],
)
def test_suggestions(typed: str, meant: list[str]) -> None:
    assert exercise_suggestions(typed, exercise_ids()) == meant


def test_an_alias_suggests_the_id_it_stands_for() -> None:
    assert exercise_suggestions("pushups", exercise_ids())[0] == "push_up"


def test_suggestions_are_only_catalogue_ids() -> None:
    assert exercise_suggestions("squats", {"lunge"}) == []


def test_the_api_error_carries_them_in_details() -> None:
    with pytest.raises(UptrackError) as raised:
        parse_query("exercise=squats", exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())
    assert raised.value.code is ErrorCode.INVALID_EXERCISE
    assert raised.value.details == {"exercise": "squats", "suggestions": ["squat"]}
