"""Messages of a reference-mode upload (contract §3.5–§3.10, §3.14): what `reference=ID` sends a client.

`posture` until the first counted repetition (the body in the frame or not); per counted repetition a `counter`
carrying `reference_score`; when asked, `progression` through each repetition (how far through the reference
movement it is) and `recommendations` after a repetition whose sub-scores grade below C; at the end the `counter`
with `final: true` (its `reference_score` is the mean of the counted reps, the "current state") and the
`exercise_summary` with `avg_similarity`, `avg_rep_score`, `total_frames_compared` and the per-rep `history`.

Counting: a candidate counts when it is a repetition for the `scoring_profile` and its grade clears `minGrade`.
`avg_similarity` (0..1) averages every candidate the matcher compared except the repetitions `minGrade` dropped
(the contract leaves those out of the summary), so an upload of another movement still reports how far off it
was; `avg_rep_score` (0–100, the form scale) averages the counted reps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from dtaidistance import dtw_ndim

from uptrack.contract.grades import grade_at_least, grade_for
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    ExerciseSummaryMessage,
    PostureMessage,
    ProgressionMessage,
    RecommendationsMessage,
    ReferenceScore,
    RepSummary,
)
from uptrack.contract.params import AnalysisRequest, ScoringProfile
from uptrack.exercises.catalogue import HIPS, SHOULDERS
from uptrack.exercises.clip import steady, to_ms
from uptrack.exercises.progression import Event, merged, throttled
from uptrack.pose.body import MIN_SCORE
from uptrack.pose.keypoints import COCO_INDEX
from uptrack.pose.series import PoseSeries
from uptrack.reference.features import movement_features
from uptrack.reference.match import RepMatch, match_repetitions
from uptrack.reference.signature import ReferenceMovement, Signature

DEFAULT_PROFILE: Final[ScoringProfile] = "kali-analysis"
"""What `reference=ID` scores with when no `scoring_profile` is given (contract §2.2)."""


CUE_BELOW: Final = 0.7
"""A sub-score under this (a D or F on the 0–100 form scale) gets a recommendation: what most needs work."""

BODY: Final = (SHOULDERS, HIPS)
"""What must be in the frame before a reference repetition can be matched: every movement feature is measured
from the trunk (positions and sizes relative to it)."""


def reference_messages(series: PoseSeries, request: AnalysisRequest, movement: ReferenceMovement) -> list[BaseMessage]:
    """Posture, counters for the counted reps (with progression and recommendations when asked), then the final
    counter and the summary, for a smoothed series."""
    signature = movement.signature()
    candidates = match_repetitions(signature, series, request.scoring_profile or DEFAULT_PROFILE)
    counted = counted_reps(candidates, request)
    reps = [c for c in candidates if c.is_rep]
    end_ms = int(series.timestamp_ms[-1]) if len(series) else 0
    messages: list[BaseMessage] = _posture(series, counted[0].start_ms if counted else None)
    if request.progression:  # before the counters: 100 comes as the rep is counted
        messages += [ProgressionMessage(value=v, timestamp_ms=t) for t, v in _progression(signature, series, reps)]
    messages += [
        CounterMessage(current_count=index, reference_score=rep.reference_score(), timestamp_ms=rep.end_ms)
        for index, rep in enumerate(counted, start=1)
    ]
    if request.recommendations:
        messages += [
            RecommendationsMessage.of(cues, timestamp_ms=r.end_ms) for r in reps if (cues := rep_cues(r, signature))
        ]
    messages.sort(key=lambda m: m.timestamp_ms or 0)  # stable: at one instant progression, counter, cues
    messages.append(
        CounterMessage(current_count=len(counted), final=True, reference_score=_mean_score(counted),
                       timestamp_ms=end_ms)
    )  # fmt: skip
    messages.append(_summary(movement.id, candidates, counted, end_ms))
    return messages


def _posture(series: PoseSeries, first_rep_ms: int | None) -> list[BaseMessage]:
    """Whether the trunk is in the frame, each time that changes (steadied), until the first counted rep."""
    times_s = series.timestamp_ms.astype(np.float64) / 1000.0
    scores = series.coco[:, :, 2]
    seen = [steady(np.max([scores[:, COCO_INDEX[n]] for n in g.names], axis=0) >= MIN_SCORE, times_s) for g in BODY]
    messages: list[BaseMessage] = []
    state: tuple[str, ...] | None = None
    for i, t in enumerate(times_s):
        stamp = to_ms(t)
        if first_rep_ms is not None and stamp >= first_rep_ms:
            break
        missing = tuple(g.label for g, ok in zip(BODY, seen, strict=True) if not ok[i])
        if missing != state:
            messages.append(_placement(missing, stamp))
            state = missing
    return messages


def _placement(missing: tuple[str, ...], stamp: int) -> PostureMessage:
    if not missing:
        return PostureMessage(message="Ready: you can start.", ready=True, timestamp_ms=stamp)
    names = [name for group in BODY if group.label in missing for name in group.names]
    return PostureMessage(
        message=f"Move so that your {', '.join(missing)} are in the frame.",
        ready=False,
        requirements=names,
        timestamp_ms=stamp,
    )


def _progression(signature: Signature, series: PoseSeries, reps: Sequence[RepMatch]) -> tuple[Event, ...]:
    """(time, value) through each repetition: the furthest reference frame its frames so far align with (DTW on
    the movement features), as a share of the reference, so 100 comes as the repetition ends."""
    track = movement_features(series, signature.hz)
    reference = signature.frames * signature.scale
    tracks = []
    for rep in reps:
        part = track.between(rep.start_ms - 0.5, rep.end_ms + 0.5)  # the rep's times are rounded to whole ms
        if len(part) < 2 or len(reference) < 2:
            continue
        reached = np.zeros(len(part))
        for ref_index, frame in dtw_ndim.warping_path(reference, part.values * signature.scale):
            reached[frame] = max(reached[frame], ref_index)
        values = 100.0 * np.maximum.accumulate(reached) / (len(reference) - 1)
        tracks.append(throttled(np.round(part.times_ms) / 1000.0, values))
    return merged(tracks)


def rep_cues(rep: RepMatch, signature: Signature) -> tuple[str, ...]:
    """What to change to move more like the reference, from the sub-scores that grade below C."""
    scores = rep.scores
    cues = []
    if scores.movement < CUE_BELOW:
        cues.append("Move through the full range of the reference movement.")
    if min(scores.ncc, scores.dtw) < CUE_BELOW:
        cues.append("Follow the shape of the reference movement.")
    if scores.pose < CUE_BELOW:
        cues.append("Match the body position of the reference.")
    if scores.timing < CUE_BELOW:
        faster = rep.duration_ms > signature.duration_ms
        cues.append("Speed up to the reference's tempo." if faster else "Slow down to the reference's tempo.")
    return tuple(cues)


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
