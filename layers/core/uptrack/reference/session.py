"""Messages of a reference-mode upload (contract §3.6, §3.7, §3.14): what `reference=ID` sends a client.

Per counted repetition a `counter` carrying `reference_score`; at the end the `counter` with `final: true` (its
`reference_score` is the mean of the counted reps, the "current state") and the `exercise_summary` with
`avg_similarity`, `avg_rep_score`, `total_frames_compared` and the per-rep `history`.

Counting: a candidate counts when it is a repetition for the `scoring_profile` and its grade clears `minGrade`.
`avg_similarity` (0..1) averages every candidate the matcher compared except the repetitions `minGrade` dropped
(the contract leaves those out of the summary), so an upload of another movement still reports how far off it
was; `avg_rep_score` (0–100, the form scale) averages the counted reps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from uptrack.contract.grades import grade_at_least, grade_for
from uptrack.contract.messages import BaseMessage, CounterMessage, ExerciseSummaryMessage, ReferenceScore, RepSummary
from uptrack.contract.params import AnalysisRequest, ScoringProfile
from uptrack.pose.series import PoseSeries
from uptrack.reference.match import RepMatch, match_repetitions
from uptrack.reference.signature import ReferenceMovement

DEFAULT_PROFILE: Final[ScoringProfile] = "kali-analysis"
"""What `reference=ID` scores with when no `scoring_profile` is given (contract §2.2)."""


def reference_messages(series: PoseSeries, request: AnalysisRequest, movement: ReferenceMovement) -> list[BaseMessage]:
    """Counters for the counted reps, then the final counter and the summary, for a smoothed series."""
    candidates = match_repetitions(movement.signature(), series, request.scoring_profile or DEFAULT_PROFILE)
    counted = counted_reps(candidates, request)
    end_ms = int(series.timestamp_ms[-1]) if len(series) else 0
    messages: list[BaseMessage] = [
        CounterMessage(current_count=index, reference_score=rep.reference_score(), timestamp_ms=rep.end_ms)
        for index, rep in enumerate(counted, start=1)
    ]
    messages.append(
        CounterMessage(current_count=len(counted), final=True, reference_score=_mean_score(counted),
                       timestamp_ms=end_ms)
    )  # fmt: skip
    messages.append(_summary(movement.id, candidates, counted, end_ms))
    return messages


def counted_reps(candidates: Sequence[RepMatch], request: AnalysisRequest) -> list[RepMatch]:
    """Repetitions of the reference whose grade clears the request's `minGrade`."""
    return [c for c in candidates if c.is_rep and grade_at_least(c.grade, request.min_grade)]


def _mean_score(reps: Sequence[RepMatch]) -> ReferenceScore | None:
    """Field-wise mean of the counted reps' scores; the grade follows the mean overall score."""
    if not reps:
        return None
    wires = [rep.reference_score().model_dump() for rep in reps]
    means = {key: round(float(np.mean([w[key] for w in wires])), 3) for key in wires[0] if key != "grade"}
    return ReferenceScore(**means, grade=grade_for(100.0 * means["overall_score"]))


def _summary(
    reference_id: str, candidates: Sequence[RepMatch], counted: Sequence[RepMatch], end_ms: int
) -> ExerciseSummaryMessage:
    compared = [c for c in candidates if not c.is_rep or c in counted]  # minGrade's drops are left out
    similarity = float(np.mean([c.overall for c in compared])) if compared else 0.0
    rep_score = 100.0 * float(np.mean([c.overall for c in counted])) if counted else None
    history = [
        RepSummary(
            index=index,
            score=round(100.0 * rep.overall, 1),
            grade=rep.grade,
            start_ms=rep.start_ms,
            end_ms=rep.end_ms,
            duration_ms=rep.duration_ms,
            reference_score=rep.reference_score(),
        )
        for index, rep in enumerate(counted, start=1)
    ]
    return ExerciseSummaryMessage(
        reference=reference_id,
        counter=len(counted),
        avg_similarity=round(similarity, 3),
        avg_rep_score=round(rep_score, 1) if rep_score is not None else None,
        grade=grade_for(rep_score) if rep_score is not None else None,
        total_frames_compared=sum(c.frames for c in candidates),
        duration_ms=end_ms,
        history=history,
        timestamp_ms=end_ms,
    )
