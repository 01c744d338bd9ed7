"""Which engine measures a request's exercise: jumps, the V4 grading, or the catalogue's V3 rep and hold engine."""

from __future__ import annotations

from uptrack.contract.messages import BaseMessage
from uptrack.contract.params import AnalysisRequest, uses_v4
from uptrack.exercises.catalogue import JUMP_EXERCISE_IDS, get_exercise
from uptrack.exercises.jump_session import jump_messages
from uptrack.exercises.session import exercise_messages
from uptrack.exercises.v4 import v4_messages
from uptrack.pose.series import PoseSeries


def exercise_run_messages(raw: PoseSeries, smoothed: PoseSeries, request: AnalysisRequest) -> list[BaseMessage]:
    """Every message for the request's exercise. Jumps read the raw series (a smoothing filter would delay the
    take-off and landing they time); everything else the smoothed one."""
    exercise_id = request.exercise or ""
    if exercise_id in JUMP_EXERCISE_IDS:
        return jump_messages(raw, request)
    exercise = get_exercise(exercise_id)
    if uses_v4(request):
        return v4_messages(smoothed, request, exercise)
    return exercise_messages(smoothed, request, exercise)
