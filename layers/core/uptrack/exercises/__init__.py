"""The exercise engine: a declarative catalogue, rep counting and holds, per-rep grades, PoseTracker messages.

`catalogue` is data; `analysis.analyze_exercise` measures a clip; `session.exercise_messages` turns that into the
contract's messages. Pure numpy: no OpenCV, no AWS.
"""

from uptrack.exercises.catalogue import ExerciseDefinition, duration_exercise_ids, exercise_ids, get_exercise

__all__ = ["ExerciseDefinition", "duration_exercise_ids", "exercise_ids", "get_exercise"]
