"""Annotated video export (`export=true`, contract §3.15): the upload's own frames with the skeleton and the
angles of the joints the exercise is measured on (both unless `skeleton=false`), the running rep count, each rep's
grade, and for two seconds after a rep the cues it fired, drawn on them, as H.264 in MP4 so it plays on iOS and
Android.

opencv-python-headless cannot encode H.264, so frames are piped raw into the ffmpeg binary of the imageio-ffmpeg
wheel (libx264, yuv420p, faststart). Frames are decoded in display orientation and encoded one for one at the
source's frame rate, so the export has the upload's frame count, duration and orientation; the audio is kept.

The work splits like the analysis: `render_part` encodes frames [start, stop) on its own (one worker per chunk in
the cloud), `join_parts` concatenates the parts without re-encoding (concat demuxer) and adds the source's audio.
`export_video` does both in one process for the CLI.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from uptrack.angles import ANGLE_DEFINITIONS, SIDES, joint_angle
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.grades import Grade
from uptrack.contract.messages import (
    BaseMessage,
    CounterMessage,
    ExerciseSummaryMessage,
    ExportReadyMessage,
    RecommendationsMessage,
)
from uptrack.contract.params import AnalysisRequest
from uptrack.exercises.catalogue import JUMP_EXERCISE_IDS, exercise_ids, get_exercise
from uptrack.media import Frame, Image, VideoSource, iter_frames, probe_video
from uptrack.pose.keypoints import COCO_INDEX, DRAW_MIN_SCORE
from uptrack.pose.series import PoseSeries
from uptrack.render import LEFT_COLOUR, RIGHT_COLOUR, draw_skeleton

PRESET: Final = "veryfast"
"""x264 speed preset: about 4x faster than `medium` for a file about 20 % larger, right for a one-off export."""

CRF: Final = 23
"""x264's default quality: the overlay's thin lines and text stay sharp."""

AUDIO_BITRATE: Final = "128k"

MAX_CHIPS: Final = 10
"""Grade chips shown at most (the latest reps): the panel must not cover the athlete."""

HIGHLIGHT_MS: Final = 1000
"""For this long after a rep is counted, its chip is outlined so the eye catches the new grade."""

GRADE_COLOURS: Final[dict[str, tuple[int, int, int]]] = {
    "A": (80, 190, 60),
    "B": (150, 200, 40),
    "C": (0, 200, 240),
    "D": (0, 140, 255),
    "E": (40, 90, 230),
    "F": (50, 50, 220),
}
"""BGR chip colour per grade: green to red."""

CUE_MS: Final = 2000
"""For this long after a rep ends, the cues it fired stay on screen: long enough to read a sentence twice."""

MAX_BLEND_FRAMES: Final = 8
"""Analysed frames farther apart than this are not blended: the frames between them get no skeleton."""

_FONT: Final = cv2.FONT_HERSHEY_DUPLEX


@dataclass(frozen=True)
class RepMark:
    """A counted rep as the overlay shows it: from `time_ms` on the count reads `count`, with this rep's grade."""

    time_ms: int
    count: int
    grade: Grade | None


def drawing_request(request: AnalysisRequest) -> AnalysisRequest:
    """The request an exporting analysis runs with: cues are always worked out, because the video shows them
    whether or not the client asked for `recommendations` messages (`client_messages` drops those it did not)."""
    return request.model_copy(update={"recommendations": True}) if request.export else request


def client_messages(drawn: Sequence[BaseMessage], request: AnalysisRequest) -> list[BaseMessage]:
    """The messages of a `drawing_request` analysis that the client asked for: cue messages only if it did.
    The cues only add messages, so the others are exactly those of an analysis of `request` itself."""
    return [m for m in drawn if request.recommendations or not isinstance(m, RecommendationsMessage)]


def rep_marks(messages: Iterable[BaseMessage]) -> tuple[RepMark, ...]:
    """The counted reps of an analysis, read from its `counter` messages.

    Reading the messages (not re-running the analysis) makes the video say exactly what the client was told:
    catalogue or reference mode, `minGrade` applied, the same grades.
    """
    marks = []
    for message in messages:
        if isinstance(message, CounterMessage) and not message.final and message.timestamp_ms is not None:
            graded = message.form_score or message.reference_score
            marks.append(RepMark(message.timestamp_ms, message.current_count, graded.grade if graded else None))
    return tuple(sorted(marks, key=lambda mark: mark.time_ms))


@dataclass(frozen=True)
class CueMark:
    """The cues one rep (or attempt) fired, shown from `time_ms` (its end) for `CUE_MS`, with the rep's grade
    (None for an attempt that was not counted)."""

    time_ms: int
    text: str
    grade: Grade | None


def cue_marks(messages: Sequence[BaseMessage]) -> tuple[CueMark, ...]:
    """The cues of an analysis, read from its `recommendations` messages; a cue sent at the moment a rep was
    counted carries that rep's grade."""
    grades = {mark.time_ms: mark.grade for mark in rep_marks(messages)}
    return tuple(
        CueMark(message.timestamp_ms, message.message, grades.get(message.timestamp_ms))
        for message in messages
        if isinstance(message, RecommendationsMessage) and message.timestamp_ms is not None and message.message
    )


def measured_joints(messages: Iterable[BaseMessage]) -> tuple[str, ...]:
    """The joints ('knee', 'elbow', ...) whose angle the analysed catalogue exercise counts, grades or holds on,
    in `ANGLE_DEFINITIONS` order; none for a pose-only, reference or jump analysis.

    A catalogue signal built on a joint angle is named after it (`knee_angle`, `front_knee_angle`,
    `hip_angle_gap`), which is how the joint is found.
    """
    exercise = next((m.exercise for m in messages if isinstance(m, ExerciseSummaryMessage)), None)
    if exercise is None or exercise not in exercise_ids() - JUMP_EXERCISE_IDS:
        return ()
    entry = get_exercise(exercise)
    signals = (
        {c.signal for c in entry.components} | {c.signal for c in entry.criteria} | {b.signal for b in entry.bounds}
    )
    return tuple(vertex for key, _, _, vertex, _ in ANGLE_DEFINITIONS if any(key in signal for signal in signals))


@dataclass(frozen=True)
class Overlay:
    """Everything drawn on the frames: the (smoothed) poses by frame index (none with `skeleton=false`), the
    counted reps, the fired cues, and the joints whose angle is labelled wherever the pose is drawn."""

    frame_index: npt.NDArray[np.int64]
    coco: npt.NDArray[np.float32]
    marks: tuple[RepMark, ...]
    cues: tuple[CueMark, ...] = ()
    joints: tuple[str, ...] = ()

    @classmethod
    def of(cls, series: PoseSeries, messages: Sequence[BaseMessage], skeleton: bool = True) -> Overlay:
        """The overlay of an analysis; without `skeleton` no pose is kept, so neither the skeleton nor the angle
        labels are drawn (a clean video), only the count, the grades and the cues."""
        drawn = series.select(np.full(len(series), skeleton))
        order = np.argsort(drawn.frame_index, kind="stable")
        joints = measured_joints(messages) if skeleton else ()
        return cls(drawn.frame_index[order], drawn.coco[order], rep_marks(messages), cue_marks(messages), joints)

    def pose_at(self, index: int) -> npt.NDArray[np.float32] | None:
        """The (17, 3) pose of a video frame; frames between two analysed ones (the analysis strides) get the
        linear blend of both, so the skeleton moves smoothly instead of blinking."""
        after = int(np.searchsorted(self.frame_index, index))
        if after < len(self.frame_index) and self.frame_index[after] == index:
            exact: npt.NDArray[np.float32] = self.coco[after]
            return exact
        if after == 0 or after == len(self.frame_index):
            return None
        before = after - 1
        gap = int(self.frame_index[after] - self.frame_index[before])
        if gap > MAX_BLEND_FRAMES:
            return None
        share = (index - int(self.frame_index[before])) / gap
        blended: npt.NDArray[np.float32] = ((1 - share) * self.coco[before] + share * self.coco[after]).astype(
            np.float32
        )
        blended[:, 2] = np.minimum(self.coco[before][:, 2], self.coco[after][:, 2])
        return blended

    def draw(self, frame: Frame) -> Image:
        """A copy of the frame with its skeleton and angle labels (when a pose is known there), the count/grade
        panel, and the latest rep's cues while they are fresh."""
        pose = self.pose_at(frame.index)
        canvas = draw_skeleton(frame.image, pose) if pose is not None else frame.image.copy()
        if pose is not None:
            draw_angle_labels(canvas, pose, self.joints)
        shown = [mark for mark in self.marks if mark.time_ms <= frame.timestamp_ms]
        draw_panel(canvas, shown, frame.timestamp_ms)
        fresh = [cue for cue in self.cues if 0 <= frame.timestamp_ms - cue.time_ms < CUE_MS]
        if fresh:
            draw_cue(canvas, fresh[-1])
        return canvas


def _unit(canvas: Image) -> float:
    """Size of the overlay's elements relative to a 720-px frame; small frames keep them readable."""
    height, width = canvas.shape[:2]
    return max(min(int(height), int(width)) / 720.0, 0.35)


Box = tuple[int, int, int, int]
"""left, top, right, bottom in pixels."""


@dataclass(frozen=True)
class _AngleLabel:
    """One joint's angle as drawn: its text, where it goes, and how sure the pose is of it."""

    text: str
    joint: npt.NDArray[np.float32]
    away: npt.NDArray[np.float32]
    colour: tuple[int, int, int]
    score: float


def draw_angle_labels(canvas: Image, pose: npt.NDArray[np.float32], joints: Sequence[str]) -> None:
    """'123°' beside each listed joint of either side whose three keypoints are seen, placed outside the angle
    (along its outer bisector) so the label never sits on the limbs that make it, framed in the side's colour.
    Labels are placed surest first and one that would cover another is left out (in a side view the far limb's
    joint lies behind the near one's)."""
    scale = max(0.8 * _unit(canvas), 0.5)
    placed: list[Box] = []
    for label in sorted(_angle_labels(canvas, pose, joints), key=lambda label: -label.score):
        box = _label_box(canvas, label, scale)
        if not any(_overlap(box, other) for other in placed):
            placed.append(box)
            _draw_label(canvas, label, box, scale)


def _angle_labels(canvas: Image, pose: npt.NDArray[np.float32], joints: Sequence[str]) -> list[_AngleLabel]:
    """The labels of the listed joints whose three keypoints are seen, in pixel space (as `uptrack.angles`)."""
    height, width = canvas.shape[:2]
    points = pose[:, :2] * np.array([width, height], dtype=np.float32)
    scores = np.nan_to_num(pose[:, 2])
    seen = np.isfinite(points).all(axis=1) & (scores >= DRAW_MIN_SCORE)
    labels = []
    for _, _, first, vertex, last in ANGLE_DEFINITIONS:
        if vertex not in joints:
            continue
        for side in SIDES:
            idx = [COCO_INDEX[f"{side}_{joint}"] for joint in (first, vertex, last)]
            if seen[idx].all():
                ends, corner = (points[idx[0]], points[idx[2]]), points[idx[1]]
                degrees = float(joint_angle(ends[0], corner, ends[1]))
                colour = LEFT_COLOUR if side == "left" else RIGHT_COLOUR
                labels.append(
                    _AngleLabel(f"{degrees:.0f}", corner, _outside(ends, corner), colour, float(scores[idx].min()))
                )
    return labels


def _outside(ends: tuple[npt.NDArray[np.float32], ...], vertex: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The unit vector pointing away from the angle at `vertex` (perpendicular to a straight limb)."""
    arms = [(end - vertex) / max(float(np.linalg.norm(end - vertex)), 1e-6) for end in ends]
    away = -(arms[0] + arms[1])
    if float(np.linalg.norm(away)) < 0.2:
        away = np.array([-arms[0][1], arms[0][0]], dtype=np.float32)
    unit: npt.NDArray[np.float32] = (away / float(np.linalg.norm(away))).astype(np.float32)
    return unit


def _label_metrics(label: _AngleLabel, scale: float) -> tuple[int, int, int, int, int]:
    """(text width, text height, stroke, ring radius, padding) of a label at `scale`."""
    thickness = max(1, round(1.6 * scale))
    (text_w, text_h), baseline = cv2.getTextSize(label.text, _FONT, scale, thickness)
    return text_w, text_h + baseline, thickness, max(2, round(3.5 * scale)), max(2, round(5 * scale))


def _label_box(canvas: Image, label: _AngleLabel, scale: float) -> Box:
    """Where a label goes: its centre `away` from the joint, clear of the joint's dot, kept inside the frame."""
    height, width = canvas.shape[:2]
    text_w, text_h, thickness, ring, pad = _label_metrics(label, scale)
    box_w, box_h = text_w + 3 * ring + 2 * pad, text_h + 2 * pad
    centre = label.joint + label.away * (0.5 * float(np.hypot(box_w, box_h)) + 3 * thickness)
    left = int(np.clip(round(float(centre[0]) - box_w / 2), 0, max(0, width - box_w)))
    top = int(np.clip(round(float(centre[1]) - box_h / 2), 0, max(0, height - box_h)))
    return left, top, left + box_w, top + box_h


def _overlap(one: Box, other: Box) -> bool:
    return one[0] < other[2] and other[0] < one[2] and one[1] < other[3] and other[1] < one[3]


def _draw_label(canvas: Image, label: _AngleLabel, box: Box, scale: float) -> None:
    """Degrees in white on a dark box framed in the side's colour; Hershey fonts have no '°', so it is a ring."""
    text_w, _, thickness, ring, pad = _label_metrics(label, scale)
    left, top, right, bottom = box
    cv2.rectangle(canvas, (left, top), (right, bottom), (25, 25, 25), -1)
    cv2.rectangle(canvas, (left, top), (right, bottom), label.colour, thickness, cv2.LINE_AA)
    origin = (left + pad, bottom - pad - cv2.getTextSize(label.text, _FONT, scale, thickness)[1])
    cv2.putText(canvas, label.text, origin, _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    ring_centre = (left + pad + text_w + 2 * ring, top + pad + ring)
    cv2.circle(canvas, ring_centre, ring, (255, 255, 255), max(1, thickness - 1), cv2.LINE_AA)


def draw_cue(canvas: Image, cue: CueMark) -> None:
    """The cue along the bottom of the frame on a darkened band, wrapped to the frame's width, after the rep's
    grade chip (none for an attempt that was not counted)."""
    height, width = canvas.shape[:2]
    unit = _unit(canvas)
    pad, chip, thickness = round(12 * unit), round(36 * unit), max(1, round(2 * unit))
    scale = max(0.9 * unit, 0.45)
    indent = chip + pad if cue.grade is not None else 0
    lines = _wrapped(cue.text, width - 4 * pad - indent, scale, thickness)
    (_, text_h), baseline = cv2.getTextSize("Ag", _FONT, scale, thickness)
    line_h = text_h + baseline + pad // 2
    band_h = max(len(lines) * line_h, chip if cue.grade is not None else 0) + 2 * pad
    top = height - band_h - pad
    band = canvas[max(0, top) : height - pad, pad : width - pad]
    band[:] = (band * 0.3).astype(np.uint8)
    if cue.grade is not None:
        _draw_chip(canvas, RepMark(cue.time_ms, 0, cue.grade), (2 * pad, top + pad), chip, False)
    for i, line in enumerate(lines):
        origin = (2 * pad + indent, top + pad + text_h + i * line_h)
        cv2.putText(canvas, line, origin, _FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _wrapped(text: str, room: int, scale: float, thickness: int) -> list[str]:
    """`text` cut into lines at spaces so each fits `room` pixels (a single longer word gets a line of its own)."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(candidate, _FONT, scale, thickness)[0][0] <= room:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines


def draw_panel(canvas: Image, shown: Sequence[RepMark], now_ms: float) -> None:
    """Top-left, on a darkened box: 'Reps N' and one coloured chip per counted rep with its grade letter."""
    unit = _unit(canvas)
    pad, chip, thickness = round(12 * unit), round(36 * unit), max(1, round(2 * unit))
    text = f"Reps {shown[-1].count if shown else 0}"
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, 1.3 * unit, thickness)
    graded = [mark for mark in shown if mark.grade is not None][-MAX_CHIPS:]
    panel_w = 2 * pad + max(text_w, len(graded) * (chip + pad) - pad)
    panel_h = 2 * pad + text_h + baseline + (chip + pad if graded else 0)
    box = canvas[pad : pad + panel_h, pad : pad + panel_w]
    box[:] = (box * 0.4).astype(np.uint8)
    cv2.putText(canvas, text, (2 * pad, 2 * pad + text_h), _FONT, 1.3 * unit, (255, 255, 255), thickness, cv2.LINE_AA)
    top = 2 * pad + text_h + baseline + pad // 2
    for i, mark in enumerate(graded):
        left = 2 * pad + i * (chip + pad)
        _draw_chip(canvas, mark, (left, top), chip, now_ms - mark.time_ms < HIGHLIGHT_MS and mark is graded[-1])


def _draw_chip(canvas: Image, mark: RepMark, corner: tuple[int, int], size: int, highlight: bool) -> None:
    grade = mark.grade or "F"
    left, top = corner
    cv2.rectangle(canvas, (left, top), (left + size, top + size), GRADE_COLOURS[grade], -1)
    if highlight:
        cv2.rectangle(canvas, (left, top), (left + size, top + size), (255, 255, 255), max(2, size // 12))
    scale = size / 40.0
    (text_w, text_h), _ = cv2.getTextSize(grade, _FONT, scale, max(1, size // 18))
    origin = (left + (size - text_w) // 2, top + (size + text_h) // 2)
    cv2.putText(canvas, grade, origin, _FONT, scale, (20, 20, 20), max(1, size // 18), cv2.LINE_AA)


def ffmpeg_exe() -> str:
    """The ffmpeg bundled with imageio-ffmpeg (with libx264); a typed error when the `export` extra is missing."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise UptrackError(
            ErrorCode.FEATURE_NOT_SUPPORTED, "Video export needs uptrack's 'export' extra (imageio-ffmpeg).", {}
        ) from exc
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def frame_rate(fps: float) -> str:
    """The source rate as an exact ffmpeg rational: NTSC rates stay 30000/1001, odd rates within a microsecond."""
    rational = Fraction(fps).limit_denominator(1001)
    if abs(float(rational) - fps) > 1e-6 * fps:
        rational = Fraction(fps).limit_denominator(1_000_000)
    return f"{rational.numerator}/{rational.denominator}"


def render_part(source: VideoSource, start: int, stop: int, overlay: Overlay, destination: Path, fps: float) -> int:
    """Encode frames [start, stop) of `source` with the overlay to an H.264 MP4 part; returns frames written.

    A part always holds exactly `stop - start` frames: if the decoder gives up early (a truncated file), the last
    frame is repeated, so parts join into a video with the source's frame count and duration.
    """
    frames = iter_frames(source, start, stop)
    first = next(frames, None)
    if first is None:
        raise UptrackError(ErrorCode.MEDIA_DECODE_ERROR, "No video frame could be decoded for the export.", {})
    height, width = first.image.shape[:2]
    images = _padded((overlay.draw(frame) for frame in _chain(first, frames)), stop - start)
    return _encode(images, destination, width, height, fps)


def _chain(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest


def _padded(images: Iterator[Image], count: int) -> Iterator[Image]:
    """Exactly `count` images: the stream cut at `count`, or its last image repeated up to it."""
    last: Image | None = None
    written = 0
    for image in images:
        if written == count:
            return
        last, written = image, written + 1
        yield image
    while last is not None and written < count:
        written += 1
        yield last


def _encode(images: Iterable[Image], destination: Path, width: int, height: int, fps: float) -> int:
    """Pipe BGR frames into libx264; even dimensions are required by yuv420p, so odd ones get one padded pixel."""
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-framerate", frame_rate(fps), "-i", "-",
        "-an", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF),
        "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(destination),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stderr is not None
    written = 0
    try:
        for image in images:
            process.stdin.write(np.ascontiguousarray(image).tobytes())
            written += 1
        process.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped early; its exit status and message say why
    error = process.stderr.read().decode("utf-8", "replace").strip()
    if process.wait() != 0:
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "Video export failed.", {"ffmpeg": error[-500:]})
    return written


def join_parts(parts: Sequence[Path], destination: Path, audio_from: VideoSource | None = None) -> None:
    """Concatenate H.264 parts without re-encoding and add the source's first audio track, if it has one.

    The parts come from `render_part` with identical settings, so the concat demuxer can copy their streams.
    """
    if not parts:
        raise ValueError("no parts to join")
    listing = destination.with_name(f".{destination.name}.parts.txt")
    listing.write_text("".join(f"file '{_quoted(part)}'\n" for part in parts), encoding="utf-8")
    audio = ["-i", str(audio_from), "-map", "1:a:0?", "-c:a", "aac", "-b:a", AUDIO_BITRATE] if audio_from else []
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "concat", "-safe", "0", "-i", str(listing), *audio[:2], "-map", "0:v:0", "-c:v", "copy", *audio[2:],
        "-movflags", "+faststart", str(destination),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, check=False)
    finally:
        listing.unlink(missing_ok=True)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-500:]
        raise UptrackError(ErrorCode.ANALYSIS_FAILED, "Joining the exported video failed.", {"ffmpeg": message})


def _quoted(path: Path) -> str:
    """A path as the concat demuxer's single-quoted string (a quote is closed, escaped and reopened)."""
    return str(path.resolve()).replace("'", "'\\''")


def export_video(source: VideoSource, overlay: Overlay, destination: Path) -> None:
    """The whole annotated video in this process: one part, joined with the source's audio."""
    info = probe_video(source)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".uptrack-export-", dir=destination.parent) as work:
        part = Path(work) / "part-0000.mp4"
        render_part(source, 0, info.frame_count, overlay, part, info.fps)
        join_parts([part], destination, audio_from=source)


def export_messages(
    source: VideoSource, overlay: Overlay, messages: Sequence[BaseMessage], destination: Path
) -> list[BaseMessage]:
    """Render the export with `overlay` and announce it with `export_ready`, just before the closing message of
    `messages` (the client's); the url is a file:// URL locally."""
    export_video(source, overlay, destination)
    end_ms = messages[-1].timestamp_ms if messages else None
    ready = ExportReadyMessage(url=destination.resolve().as_uri(), timestamp_ms=end_ms)
    return [*messages[:-1], ready, *messages[-1:]]
