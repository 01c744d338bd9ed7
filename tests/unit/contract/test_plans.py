"""Plan gating (contract §7.2)."""

from __future__ import annotations

import pytest
from uptrack.contract.params import AnalysisRequest, parse_query
from uptrack.contract.plans import DEFAULT_MONTHLY_QUOTAS, GATED_FEATURES, Plan, blocked_features

ALL_FLAGS = dict.fromkeys(GATED_FEATURES, True)


def test_default_quotas_follow_the_terms_of_use() -> None:
    assert DEFAULT_MONTHLY_QUOTAS == {Plan.FREE: 500, Plan.DEVELOPER: 5000, Plan.BUSINESS: 100_000}


def test_free_plan_blocks_every_gated_flag_during_an_exercise() -> None:
    request = AnalysisRequest(exercise="squat", **ALL_FLAGS)
    assert blocked_features(request, Plan.FREE) == [
        "keypoints", "angles", "progression", "recommendations", "blazepose", "export",
    ]  # fmt: skip


def test_free_plan_blocks_keypoints_in_reference_mode() -> None:
    assert blocked_features(AnalysisRequest(reference="r1", keypoints=True), Plan.FREE) == ["keypoints"]


def test_pose_only_keypoints_are_free() -> None:
    assert blocked_features(AnalysisRequest(keypoints=True), Plan.FREE) == []
    assert blocked_features(AnalysisRequest(source="image", keypoints=True), Plan.FREE) == []


def test_angles_are_gated_even_without_an_exercise() -> None:
    assert blocked_features(AnalysisRequest(source="image", angles=True, keypoints=True), Plan.FREE) == ["angles"]


@pytest.mark.parametrize("plan", [Plan.DEVELOPER, Plan.BUSINESS])
def test_paid_plans_allow_everything(plan: Plan) -> None:
    assert blocked_features(AnalysisRequest(exercise="squat", **ALL_FLAGS), plan) == []


def test_always_allowed_outputs_are_never_blocked() -> None:
    request = AnalysisRequest(exercise="squat", skeleton="style-1", min_grade="B", difficulty="hard")
    assert blocked_features(request, Plan.FREE) == []


def test_flags_ignored_for_images_are_not_reported() -> None:
    request = parse_query("source=image&export=true&progression=true", exercise_ids=())
    assert blocked_features(request, Plan.FREE) == []
