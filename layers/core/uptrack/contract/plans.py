"""Plans and plan gating (contract §7): which developer outputs a token's plan may request."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from uptrack.contract.params import AnalysisRequest


class Plan(StrEnum):
    """PoseTracker's public plans; `business` stands for its Custom/Company tier."""

    FREE = "free"
    DEVELOPER = "developer"
    BUSINESS = "business"


DEFAULT_MONTHLY_QUOTAS: Final[Mapping[Plan, int]] = {
    Plan.FREE: 500,
    Plan.DEVELOPER: 5_000,
    Plan.BUSINESS: 100_000,
}
"""API calls per calendar month (ToU: 500 and 5 000; business is negotiated upstream, 100 000 is our default)."""

MAX_UPLOADS_IN_FLIGHT: Final[Mapping[Plan, int]] = {
    Plan.FREE: 2,
    Plan.DEVELOPER: 10,
    Plan.BUSINESS: 100,
}
"""Uploads one token may have unfinished at once: each one may fan out to a hundred parallel Lambdas, so a single
tenant cannot take the account's concurrency from the others."""

GATED_FEATURES: Final = ("keypoints", "angles", "progression", "recommendations", "blazepose", "export")
"""Flags the free plan may not request (§7.2), in the order `details.blocked` lists them."""


def blocked_features(request: AnalysisRequest, plan: Plan) -> list[str]:
    """Requested flags the plan refuses; empty when the request may run.

    Keypoints are refused on the free plan only while an exercise or reference runs: pose-only keypoints
    (no exercise, or an image) are free per the newer docs. Flags already ignored by the parser (e.g. `export`
    on an image) are False here, so they are never reported.
    """
    if plan is not Plan.FREE:
        return []
    tracking = request.exercise is not None or request.reference is not None
    return [
        feature
        for feature in GATED_FEATURES
        if getattr(request, feature) is True and (feature != "keypoints" or tracking)
    ]
