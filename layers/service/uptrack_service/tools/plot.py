"""`uptrack analyze --plot OUT.png`: the exercise's main signal over time, each counted rep shaded and graded.

Drawn with OpenCV (no plotting library). The curve is computed exactly as the rep counter sees it: the smoothed
keypoints of `keypoints_batch`, the catalogue's signal function, the counter's gap-bridging median. Reps come
from `exercise_summary.history` (so `minGrade` applies); a hold shades the seconds that were counted. A rep
graded below A is marked with the criterion it failed (`form_score.failed_criterion`, by its catalogue label),
so the plot says why it lost its grade.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    ErrorMessage,
    ExerciseSummaryMessage,
    KeypointsBatchMessage,
    KeypointsMessage,
    RepSummary,
)
from uptrack.contract.params import AnalysisRequest, Difficulty
from uptrack.exercises.catalogue import JUMP_EXERCISE_IDS, ExerciseDefinition, get_exercise
from uptrack.exercises.filters import clean
from uptrack.exercises.signals import compute_signals
from uptrack.export import GRADE_COLOURS
from uptrack.media import Image, probe_video
from uptrack.pose.body import measure_body
from uptrack.pose.keypoints import COCO_KEYPOINTS

Floats = npt.NDArray[np.float64]
Scale = Callable[[float], int]

WIDTH, HEIGHT = 1280, 520
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 60, 60
FONT = cv2.FONT_HERSHEY_SIMPLEX
INK = (40, 40, 40)
GRID = (225, 225, 225)
CURVE = (160, 80, 20)  # BGR
HOLD_COLOUR = (200, 170, 110)
WHY_COLOUR = (20, 20, 150)
"""Dark red: the failed criterion written under a rep's grade."""
WHY_SCALE = 0.5


class PlotError(Exception):
    """The plot could not be written; the message is one line for the user."""


@dataclass(frozen=True)
class Span:
    """A shaded interval of the plot: one counted rep (or the counted part of a hold) and its label."""

    start_ms: int
    end_ms: int
    label: str
    colour: tuple[int, int, int]
    why: str | None = None
    """The failed criterion's label, for a rep graded below A that failed one."""


class PlotRecorder:
    """Collects what the plot needs from an `analyze` run, without changing what the user asked to see.

    The plot reads the smoothed keypoints of `keypoints_batch`, so the analysis runs with keypoints on; the
    keypoints messages are printed only when the user asked for them (`shows`).
    """

    def __init__(self, out: Path, video: Path, request: AnalysisRequest) -> None:
        if request.exercise is None or request.source != "video":
            raise UptrackError(ErrorCode.INVALID_PARAMS, "--plot needs a video and --exercise.", {})
        if request.exercise in JUMP_EXERCISE_IDS:
            raise UptrackError(ErrorCode.FEATURE_NOT_SUPPORTED, "--plot draws reps and holds, not jumps.", {})
        self.out = out
        self.video = video
        self.exercise = get_exercise(request.exercise)
        self.difficulty = request.difficulty
        self.user_keypoints = request.keypoints
        self.request = request.model_copy(update={"keypoints": True})
        self.messages: list[BaseMessage] = []

    def shows(self, message: BaseMessage) -> bool:
        """Record `message`; True when the user's own request would have produced it."""
        self.messages.append(message)
        return self.user_keypoints or not isinstance(message, KeypointsMessage | KeypointsBatchMessage)

    def write(self) -> None:
        """Draw and save the plot; an analysis that ended in an error draws nothing."""
        if any(isinstance(m, ErrorMessage) for m in self.messages):
            return
        info = probe_video(self.video)
        image = draw_plot(self.messages, self.exercise, self.difficulty, info.width, info.height)
        try:
            written = cv2.imwrite(str(self.out), image)
        except cv2.error:  # an extension OpenCV has no encoder for
            written = False
        if not written:
            raise PlotError(f"cannot write the plot to {self.out} (use a writable .png path)")


def main_signal(exercise: ExerciseDefinition) -> str:
    """The signal a rep moves first in the catalogue (a hold: its first posture bound)."""
    return exercise.components[0].signal if exercise.components else exercise.bounds[0].signal


def signal_curve(batch: KeypointsBatchMessage, width: int, height: int, signal: str) -> tuple[Floats, Floats]:
    """(times in s, values) of `signal` over the frames of `batch`, as the rep counter computes it."""
    frames = batch.data
    coco = np.full((len(frames), len(COCO_KEYPOINTS), 3), np.nan, dtype=np.float32)
    for row, frame in enumerate(frames):
        by_name = {point.name: point for point in frame.keypoints}
        for column, name in enumerate(COCO_KEYPOINTS):
            if point := by_name.get(name):
                coco[row, column] = (point.x, point.y, point.score)
    times = np.array([frame.timestamp_ms for frame in frames], dtype=np.float64) / 1000.0
    values = compute_signals(measure_body(coco, width, height), frozenset({signal}))[signal]
    return times, clean(values, times)


def spans(messages: Sequence[BaseMessage]) -> list[Span]:
    """Counted reps from the summary's history; for a hold, the span of its counted seconds."""
    summary = next((m for m in messages if isinstance(m, ExerciseSummaryMessage)), None)
    if summary is not None and summary.history:
        return [
            Span(
                rep.start_ms,
                rep.end_ms,
                f"#{rep.index} {rep.grade} {rep.score:.0f}",
                GRADE_COLOURS[rep.grade],
                _why(rep),
            )
            for rep in summary.history
        ]
    ticks = [m.timestamp_ms or 0 for m in messages if isinstance(m, CounterMessage) and not m.final]
    if not ticks:
        return []
    return [Span(max(ticks[0] - 1000, 0), ticks[-1], f"held {len(ticks)} s", HOLD_COLOUR)]


def _why(rep: RepSummary) -> str | None:
    """The label of the criterion a rep below A failed; None for an A rep or one that failed none."""
    form = rep.form_score
    if rep.grade == "A" or form is None or form.failed_criterion is None:
        return None
    labels = {criterion.name: criterion.label for criterion in form.criteria or []}
    return labels.get(form.failed_criterion, form.failed_criterion)


def draw_plot(
    messages: Sequence[BaseMessage], exercise: ExerciseDefinition, difficulty: Difficulty, width: int, height: int
) -> Image:
    """The plot of one analysis (its messages must include `keypoints_batch`) as a BGR image."""
    batch = next(m for m in messages if isinstance(m, KeypointsBatchMessage))
    signal = main_signal(exercise)
    times, values = signal_curve(batch, width, height, signal)
    marked = spans(messages)
    end_s = max(float(times[-1]) if len(times) else 0.0, *(s.end_ms / 1000 for s in marked), 1.0)
    guides = _guides(exercise, difficulty)
    low, high = _value_range(values, guides)

    canvas = np.full((HEIGHT, WIDTH, 3), 255, dtype=np.uint8)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(seconds: float) -> int:
        return LEFT + round(plot_w * seconds / end_s)

    def y_of(value: float) -> int:
        return TOP + round(plot_h * (high - value) / (high - low))

    for span in marked:
        left, right = x_of(span.start_ms / 1000), x_of(span.end_ms / 1000)
        overlay = canvas.copy()
        cv2.rectangle(overlay, (left, TOP), (right, TOP + plot_h), span.colour, -1)
        cv2.addWeighted(overlay, 0.35, canvas, 0.65, 0, dst=canvas)
        cv2.line(canvas, (right, TOP), (right, TOP + plot_h), span.colour, 2, cv2.LINE_AA)
        _text(canvas, span.label, (left + 4, TOP + 20), 0.55, INK, 1)
        for row, line in enumerate(_wrapped(span.why or "", right - left - 8)):
            _text(canvas, line, (left + 4, TOP + 42 + 18 * row), WHY_SCALE, WHY_COLOUR, 1)
    _axes(canvas, end_s, low, high, x_of, y_of)
    for name, value in guides:
        y = y_of(value)
        for x in range(LEFT, LEFT + plot_w, 14):
            cv2.line(canvas, (x, y), (min(x + 7, LEFT + plot_w), y), (150, 150, 150), 1)
        _text(canvas, name, (LEFT + plot_w - 110, y - 5), 0.45, (110, 110, 110), 1)
    _curve(canvas, times, values, x_of, y_of)
    unit = "degrees" if signal.endswith("_angle") else "body lengths"
    count = next((m.current_count for m in messages if isinstance(m, CounterMessage) and m.final), 0)
    noun = "s held" if exercise.is_duration else "reps"
    title = f"{exercise.name}: {signal} ({unit}) over time, {count} {noun}"
    _text(canvas, title, (LEFT, 36), 0.75, INK, 2)
    return canvas


def _guides(exercise: ExerciseDefinition, difficulty: Difficulty) -> list[tuple[str, float]]:
    """Dashed reference lines: where a rep starts and the depth it must reach at this difficulty."""
    if not exercise.components:
        return []
    component = exercise.components[0]
    return [("rest", component.rest), (f"target ({difficulty})", component.target.at(difficulty))]


def _value_range(values: Floats, guides: Sequence[tuple[str, float]]) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    candidates = [*finite.tolist(), *(v for _, v in guides)]
    if not candidates:
        return 0.0, 1.0
    low, high = min(candidates), max(candidates)
    pad = max((high - low) * 0.08, 1e-3)
    return low - pad, high + pad


def _axes(canvas: Image, end_s: float, low: float, high: float, x_of: Scale, y_of: Scale) -> None:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    step_s = _nice_step(end_s / 10)
    for i in range(math.floor(end_s / step_s) + 1):
        x = x_of(i * step_s)
        cv2.line(canvas, (x, TOP), (x, bottom), GRID, 1)
        _text(canvas, f"{i * step_s:g}", (x - 8, bottom + 22), 0.5, INK, 1)
    _text(canvas, "time (s)", (right - 70, bottom + 48), 0.5, INK, 1)
    step_v = _nice_step((high - low) / 6)
    value = math.ceil(low / step_v) * step_v
    while value <= high:
        y = y_of(value)
        cv2.line(canvas, (LEFT, y), (right, y), GRID, 1)
        _text(canvas, f"{value:g}", (8, y + 5), 0.5, INK, 1)
        value = round(value + step_v, 10)
    cv2.rectangle(canvas, (LEFT, TOP), (right, bottom), INK, 1)


def _curve(canvas: Image, times: Floats, values: Floats, x_of: Scale, y_of: Scale) -> None:
    """The signal as polylines, broken where it is unknown."""
    run: list[tuple[int, int]] = []
    for seconds, value in [*zip(times.tolist(), values.tolist(), strict=True), (0.0, math.nan)]:
        if math.isfinite(value):
            run.append((x_of(seconds), y_of(value)))
        elif run:
            cv2.polylines(canvas, [np.array(run, dtype=np.int32)], False, CURVE, 2, cv2.LINE_AA)
            run = []


def _wrapped(text: str, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels where words allow (a narrow rep gets one word a line)."""
    lines: list[str] = []
    for word in text.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(joined, FONT, WHY_SCALE, 1)[0][0] <= width:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least `raw`."""
    if raw <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)


def _text(canvas: Image, text: str, at: tuple[int, int], scale: float, colour: tuple[int, int, int], w: int) -> None:
    cv2.putText(canvas, text, at, FONT, scale, colour, w, cv2.LINE_AA)
