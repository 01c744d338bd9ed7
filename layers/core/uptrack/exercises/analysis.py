"""Analyse one clip for one catalogue exercise: reps (or seconds held), each graded, plus placement feedback.

This is the layer the summary, the message builder and the accuracy report share; it knows nothing about
`minGrade` or wire messages. Pipeline: keypoints → body-normalised joint signals (`signals`), cleaned (`filters`)
→ per-frame view, visibility, posture (`clip`) → reps (`reps`, with `counting` and `grading`) or holds (`holds`).
"""

from __future__ import annotations

from dataclasses import replace

from uptrack.contract.params import Difficulty
from uptrack.exercises.catalogue import ExerciseDefinition
from uptrack.exercises.clip import measure_clip
from uptrack.exercises.holds import analyze_hold
from uptrack.exercises.mismatch import mismatch_spans
from uptrack.exercises.reps import analyze_reps
from uptrack.exercises.results import ExerciseAnalysis, PostureState, RepResult
from uptrack.pose.series import PoseSeries

__all__ = ["ExerciseAnalysis", "PostureState", "RepResult", "analyze_exercise"]


def analyze_exercise(series: PoseSeries, exercise: ExerciseDefinition, difficulty: Difficulty) -> ExerciseAnalysis:
    """Count (or time) and grade `exercise` on a smoothed pose series."""
    clip = measure_clip(series, exercise)
    base = ExerciseAnalysis(exercise.id, exercise.kind, difficulty, clip.view, clip.duration_ms)
    if exercise.is_duration:
        return analyze_hold(clip, exercise, difficulty, base)
    analysis = analyze_reps(clip, exercise, difficulty, base)
    return replace(analysis, mismatches=mismatch_spans(series, analysis))
