"""Reference mode's summary leaves out what `minGrade` dropped, as the contract's summary does (cached real poses)."""

from __future__ import annotations

import numpy as np
from uptrack.contract.messages import ExerciseSummaryMessage
from uptrack.contract.params import AnalysisRequest
from uptrack.reference.match import match_repetitions
from uptrack.reference.session import reference_messages
from uptrack.reference.signature import create_reference
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO

POSES = REPO / "tests" / "data" / "poses"


def test_avg_similarity_leaves_out_the_reps_min_grade_dropped() -> None:
    side = smooth_series(load_series((POSES / "squat_side_man_3reps_yuyoujiang.npz").read_bytes()))
    movement = create_reference(side, "alice", start_ms=4100, end_ms=7000, name="squat")
    occluded = smooth_series(load_series((POSES / "squat_barbell_back_occluded_3reps_kavyadalmia.npz").read_bytes()))
    candidates = match_repetitions(movement.signature(), occluded, "kali-analysis")
    dropped = [c for c in candidates if c.is_rep and c.grade not in ("A", "B", "C")]
    kept = [c for c in candidates if c not in dropped]
    assert dropped and kept, "the clip must have reps on both sides of the bar"
    summary = reference_messages(occluded, AnalysisRequest(reference=movement.id, min_grade="C"), movement)[-1]
    assert isinstance(summary, ExerciseSummaryMessage)
    assert summary.avg_similarity == round(float(np.mean([c.overall for c in kept])), 3)
    assert summary.avg_similarity != round(float(np.mean([c.overall for c in candidates])), 3)
