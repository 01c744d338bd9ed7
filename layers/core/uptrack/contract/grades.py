"""Letter grades for rep scores (contract §5.1): one mapping shared by counting, messages and summaries."""

from __future__ import annotations

import math
from typing import Literal, get_args

Grade = Literal["A", "B", "C", "D", "E", "F"]
"""Every letter a message may carry: A–D and F on V3, plus E on V4 (`engine=v4`)."""

MinGrade = Literal["A", "B", "C", "D"]
"""Letters `minGrade` accepts: the contract refuses E and F as a bar."""

GRADES: tuple[Grade, ...] = get_args(Grade)
MIN_GRADES: tuple[MinGrade, ...] = get_args(MinGrade)

_BANDS: tuple[tuple[float, Grade], ...] = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))
_V4_BANDS: tuple[tuple[float, Grade], ...] = (*_BANDS, (40.0, "E"))


def grade_for(score: float, v4: bool = False) -> Grade:
    """Map a 0–100 score to its letter: A≥90, B≥80, C≥70, D≥60, else F (V3); V4 adds E for 40–59, F below 40.

    A non-finite score (NaN from an empty average) is F, so a broken measurement never earns a good grade.
    """
    if not math.isfinite(score):
        return "F"
    for floor, grade in _V4_BANDS if v4 else _BANDS:
        if score >= floor:
            return grade
    return "F"


def grade_at_least(grade: Grade, min_grade: MinGrade | None) -> bool:
    """True when `grade` is as good as `min_grade` or better; no bar (None) accepts every rep."""
    if min_grade is None:
        return True
    return GRADES.index(grade) <= GRADES.index(min_grade)
