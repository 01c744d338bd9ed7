"""Media probing and decoding: what is this file, and its frames in display orientation.

Phone videos often carry a rotation tag instead of rotated pixels; OpenCV's FFmpeg backend applies it
(CAP_PROP_ORIENTATION_AUTO), so sizes are taken from a decoded frame, never from the container alone.
Every failure is an `UptrackError` with the contract's code, so no traceback reaches a user.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from uptrack.contract.errors import ErrorCode, UptrackError

Image = npt.NDArray[np.uint8]

#: Frame rates outside this range are metadata errors; timestamps then come from the decoder.
PLAUSIBLE_FPS = (1.0, 240.0)
DEFAULT_FPS = 30.0

_IMAGE_MAGIC: tuple[bytes, ...] = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF8", b"BM")


@dataclass(frozen=True)
class VideoInfo:
    """What a client and the chunk planner need to know about a video."""

    codec: str
    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int
    rotation: int


@dataclass(frozen=True)
class Frame:
    index: int
    timestamp_ms: float
    image: Image


def media_kind(path: Path) -> str:
    """'image' or 'video' from the file's first bytes (names and extensions lie)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as missing:
        raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, f"The file could not be read: {path.name}") from missing
    if head.startswith(b"RIFF") and head[8:12] != b"WEBP":
        return "video"  # RIFF/AVI
    return "image" if head.startswith(_IMAGE_MAGIC) else "video"


#: A local file, or an http(s) URL that FFmpeg reads with range requests (a presigned S3 GET in the cloud).
VideoSource = Path | str


def _shown(path: VideoSource) -> str:
    """What an error may show of a source: a URL loses its query (a presigned URL's signature and credentials)."""
    return str(path) if isinstance(path, Path) else path.split("?", 1)[0]


def _open(path: VideoSource, threads: int) -> cv2.VideoCapture:
    if isinstance(path, Path):
        if not path.is_file():
            raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, f"Video not found: {path.name}", {"path": str(path)})
        if path.stat().st_size == 0:
            raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, "The video file is empty.", {"path": str(path)})
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, threads])
    if not capture.isOpened():
        capture.release()
        raise UptrackError(
            ErrorCode.MEDIA_DECODE_ERROR, "The file could not be opened as a video.", {"path": _shown(path)}
        )
    return capture


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() and text.strip("\x00") else "unknown"


def _plausible_fps(value: float) -> bool:
    return math.isfinite(value) and PLAUSIBLE_FPS[0] <= value <= PLAUSIBLE_FPS[1]


def probe_video(path: VideoSource, threads: int = 1) -> VideoInfo:
    """Open the video and decode its first frame; raise a typed error when that is impossible."""
    capture = _open(path, threads)
    try:
        ok, first = capture.read()
        if not ok or first is None:
            raise UptrackError(ErrorCode.MEDIA_DECODE_ERROR, "No video frame could be decoded.", {"path": _shown(path)})
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if not _plausible_fps(fps):
            fps = DEFAULT_FPS
        if count <= 0:
            count = 1 + _count_remaining(capture)
        height, width = first.shape[:2]
        return VideoInfo(
            codec=_fourcc(capture),
            fps=fps,
            frame_count=count,
            duration_s=count / fps,
            width=int(width),
            height=int(height),
            rotation=int(capture.get(cv2.CAP_PROP_ORIENTATION_META)) % 360,
        )
    finally:
        capture.release()


def _count_remaining(capture: cv2.VideoCapture) -> int:
    count = 0
    while capture.grab():
        count += 1
    return count


def iter_frames(
    path: VideoSource,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    threads: int = 1,
) -> Iterator[Frame]:
    """Decode frames [start, stop) keeping every `stride`-th one, in display orientation.

    Skipped frames are only grabbed (decoded, not converted), which is the cheap path for H.264.
    Timestamps come from the container when its frame rate is plausible, else from the default frame rate; they
    always increase.
    """
    capture = _open(path, threads)
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        clock = _Clock(fps if _plausible_fps(fps) else DEFAULT_FPS, trusted=_plausible_fps(fps))
        if start > 0:
            capture.set(cv2.CAP_PROP_POS_FRAMES, start)
        index = start
        while stop is None or index < stop:
            if not capture.grab():
                break
            stamp = clock.stamp(capture, index)
            if (index - start) % stride == 0:
                ok, image = capture.retrieve()
                if ok and image is not None:
                    yield Frame(index, stamp, np.asarray(image, dtype=np.uint8))
            index += 1
    finally:
        capture.release()


class _Clock:
    """Frame times in ms. A container that claims an implausible frame rate (0, 15 360 fps) has timestamps in the
    same broken units, so they are ignored and frames are spaced at `fps`; otherwise the container's positions are
    used (variable frame rate stays exact) while they are sane and increasing, and garbage positions are replaced
    by the next tick, so time never runs backwards."""

    def __init__(self, fps: float, trusted: bool) -> None:
        self.interval_ms = 1000.0 / fps
        self.trusted = trusted
        self.previous: float | None = None

    def stamp(self, capture: cv2.VideoCapture, index: int) -> float:
        nominal = index * self.interval_ms
        stamp = nominal
        if self.trusted:
            position = float(capture.get(cv2.CAP_PROP_POS_MSEC))
            if math.isfinite(position) and position > 0 and abs(position - nominal) < max(5000.0, nominal / 2):
                stamp = position
        if self.previous is not None and stamp <= self.previous:
            stamp = self.previous + self.interval_ms
        self.previous = stamp
        return stamp


def load_image(path: Path) -> Image:
    """Decode a photo (JPEG/PNG/WebP/BMP), EXIF orientation applied, as BGR."""
    if not path.is_file() or path.stat().st_size == 0:
        raise UptrackError(ErrorCode.IMAGE_LOAD_ERROR, "The image file is missing or empty.", {"path": str(path)})
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UptrackError(
            ErrorCode.IMAGE_LOAD_ERROR, "The file could not be decoded as an image.", {"path": str(path)}
        )
    return np.asarray(image, dtype=np.uint8)
