"""Annotated video export (`export=true`, contract §3.15): the upload's own frames with the skeleton (unless
`skeleton=false`), the running rep count and each rep's grade drawn on them, as H.264 in MP4 so it plays on iOS
and Android.

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

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.grades import Grade
from uptrack.contract.messages import BaseMessage, CounterMessage, ExportReadyMessage
from uptrack.media import Frame, Image, VideoSource, iter_frames, probe_video
from uptrack.pose.series import PoseSeries
from uptrack.render import draw_skeleton

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

MAX_BLEND_FRAMES: Final = 8
"""Analysed frames farther apart than this are not blended: the frames between them get no skeleton."""

_FONT: Final = cv2.FONT_HERSHEY_DUPLEX


@dataclass(frozen=True)
class RepMark:
    """A counted rep as the overlay shows it: from `time_ms` on the count reads `count`, with this rep's grade."""

    time_ms: int
    count: int
    grade: Grade | None


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
class Overlay:
    """Everything drawn on the frames: the (smoothed) poses by frame index (none with `skeleton=false`), and the
    counted reps."""

    frame_index: npt.NDArray[np.int64]
    coco: npt.NDArray[np.float32]
    marks: tuple[RepMark, ...]

    @classmethod
    def of(cls, series: PoseSeries, messages: Iterable[BaseMessage], skeleton: bool = True) -> Overlay:
        """The overlay of an analysis; without `skeleton` no pose is kept, so only the count and grades are drawn."""
        drawn = series.select(np.full(len(series), skeleton))
        order = np.argsort(drawn.frame_index, kind="stable")
        return cls(drawn.frame_index[order], drawn.coco[order], rep_marks(messages))

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
        """A copy of the frame with its skeleton (when a pose is known there) and the count/grade panel."""
        pose = self.pose_at(frame.index)
        canvas = draw_skeleton(frame.image, pose) if pose is not None else frame.image.copy()
        shown = [mark for mark in self.marks if mark.time_ms <= frame.timestamp_ms]
        draw_panel(canvas, shown, frame.timestamp_ms)
        return canvas


def draw_panel(canvas: Image, shown: Sequence[RepMark], now_ms: float) -> None:
    """Top-left, on a darkened box: 'Reps N' and one coloured chip per counted rep with its grade letter."""
    height, width = canvas.shape[:2]
    unit = max(min(height, width) / 720.0, 0.35)
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
    source: VideoSource, series: PoseSeries, messages: Sequence[BaseMessage], destination: Path, skeleton: bool = True
) -> list[BaseMessage]:
    """Render the export for an analysis and announce it with `export_ready`, just before the closing message.

    `series` is the smoothed pose series the messages came from (its skeleton drawn when `skeleton`); the url is a
    file:// URL locally.
    """
    export_video(source, Overlay.of(series, messages, skeleton), destination)
    end_ms = messages[-1].timestamp_ms if messages else None
    ready = ExportReadyMessage(url=destination.resolve().as_uri(), timestamp_ms=end_ms)
    return [*messages[:-1], ready, *messages[-1:]]
