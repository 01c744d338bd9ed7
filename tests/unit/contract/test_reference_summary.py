"""Reference mode follows the contract like exercise mode (cached real poses): the summary leaves out what
`minGrade` dropped; posture, progression and recommendations are sent."""

from __future__ import annotations

import numpy as np
from uptrack.contract.messages import (
    CounterMessage,
    ExerciseSummaryMessage,
    PostureMessage,
    ProgressionMessage,
    RecommendationsMessage,
    dump_message,
    parse_message,
)
from uptrack.contract.params import AnalysisRequest
from uptrack.reference.match import match_repetitions
from uptrack.reference.session import reference_messages, rep_cues
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


def test_reference_mode_sends_posture_and_when_asked_progression_and_recommendations() -> None:
    side = smooth_series(load_series((POSES / "squat_side_man_3reps_yuyoujiang.npz").read_bytes()))
    movement = create_reference(side, "alice", start_ms=4100, end_ms=7000, name="squat")
    other = smooth_series(load_series((POSES / "squat_side_overlay_3reps_msoldo.npz").read_bytes()))
    plain = reference_messages(other, AnalysisRequest(reference=movement.id), movement)
    asked = reference_messages(
        other, AnalysisRequest(reference=movement.id, progression=True, recommendations=True), movement
    )
    assert isinstance(plain[0], PostureMessage) and isinstance(asked[0], PostureMessage)
    assert not [m for m in plain if isinstance(m, ProgressionMessage | RecommendationsMessage)]
    counters = [m.timestamp_ms for m in asked if isinstance(m, CounterMessage) and not m.final]
    values = [(m.timestamp_ms, m.value) for m in asked if isinstance(m, ProgressionMessage)]
    assert counters and [t for t, v in values if v == 100.0] == counters
    assert len(values) >= 5 * len(counters), "continuous through each repetition"
    candidates = [c for c in match_repetitions(movement.signature(), other, "kali-analysis") if c.is_rep]
    cued = [m.timestamp_ms for m in asked if isinstance(m, RecommendationsMessage)]
    assert cued == [c.end_ms for c in candidates if rep_cues(c, movement.signature())]
    for message in asked:
        parse_message(dump_message(message))
