"""Media probing and decoding: what is this file, and its frames in display orientation.

Phone videos often carry a rotation tag instead of rotated pixels; OpenCV's FFmpeg backend applies it
(CAP_PROP_ORIENTATION_AUTO), so sizes are taken from a decoded frame, never from the container alone.
Every failure is an `UptrackError` with the contract's code, so no traceback reaches a user.

Uploads are hostile until checked, so the work a file can cause is bounded before it is done (`MediaLimits`):
only the containers phones and browsers record are opened (FFmpeg itself is held to those demuxers and to file
and http(s) input, so an SDP or playlist file cannot make it open network ports); a frame's pixel count is read
from the stream's parameters before a frame is decoded here, and a photo's from its header before it is decoded
at all; the frame count comes from the container, or from counting packets without decoding them, and stops at
the limit.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.mp4 import presented_frames
from uptrack.shots import Thumbnail, is_cut, thumbnail

Image = npt.NDArray[np.uint8]

#: Frame rates outside this range are metadata errors; timestamps then come from the decoder.
PLAUSIBLE_FPS = (1.0, 240.0)
DEFAULT_FPS = 30.0

_IMAGE_MAGIC: tuple[bytes, ...] = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF8", b"BM")

#: First box types of an ISO media file (MP4, MOV, 3GP); old QuickTime files may start with any of them.
_ISO_BOXES: Final = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid"})
_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"  # Matroska / WebM
#: FFmpeg's names for the demuxers of those containers, and the only inputs it may read: a local file, or the
#: object store's presigned http(s) URL. Anything else (SDP, RTP, HLS, concat, raw H.264) fails to open.
_DEMUXERS: Final = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
_PROTOCOLS: Final = "file,http,https,tcp,tls"
_CAPTURE_OPTIONS: Final = f"format_whitelist;{_DEMUXERS}|protocol_whitelist;{_PROTOCOLS}"
#: OpenCV passes this variable's options to FFmpeg at every open; it has no other way to take demuxer options.
_CAPTURE_OPTIONS_VARIABLE: Final = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


@dataclass(frozen=True)
class MediaLimits:
    """How much work one upload may cause; every limit is checked before the work it bounds.

    * `max_frame_pixels`: 8192x4352, the largest frame of a standard H.264 or HEVC stream (level 6.2), so every
      phone's 8K video passes and a 15360x15360 clip (1.9 GiB to open and decode its first frame) does not.
    * `max_image_pixels`: 64 megapixels, above every phone camera's default photo (12-50 MP); a decoded photo
      costs 3 bytes a pixel, several times over while it is drawn on and encoded.
    * `max_frames`: 10 minutes at 60 fps; the chunk planner and the analysis never go past the count checked here.
    * `max_seconds`: the service's duration limit (none for a local analysis).
    """

    max_frame_pixels: int = 8192 * 4352
    max_image_pixels: int = 64_000_000
    max_frames: int = 36_000
    max_seconds: float | None = None


DEFAULT_LIMITS: Final = MediaLimits()


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
    cut: bool = False
    """A new camera shot starts at this frame or at a skipped frame since the previous one kept (`uptrack.shots`)."""


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


def container_of(head: bytes) -> str | None:
    """'mp4', 'matroska' or 'avi' from a file's first 12 bytes; None for any other format."""
    if head[4:8] in _ISO_BOXES:
        return "mp4"
    if head.startswith(_EBML_MAGIC):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    return None


def check_container(head: bytes) -> None:
    """Refuse, before FFmpeg sees it, a video that is not in a container phones and browsers record."""
    if container_of(head) is None:
        raise UptrackError(
            ErrorCode.UNSUPPORTED_MEDIA_FORMAT,
            "The video must be an MP4, MOV, 3GP, WebM, MKV or AVI file.",
            {"accepted": ["mp4", "mov", "3gp", "webm", "mkv", "avi"]},
        )


def _check_pixels(width: int, height: int, limit: int, kind: str) -> None:
    if width * height > limit:
        raise UptrackError(
            ErrorCode.MEDIA_DIMENSIONS_TOO_LARGE,
            f"The {kind} is {width}x{height} pixels; at most {limit} pixels are accepted.",
            {"width": width, "height": height, "maxPixels": limit},
        )


def _open(path: VideoSource, threads: int, demux_only: bool = False) -> cv2.VideoCapture:
    if isinstance(path, Path):
        if not path.is_file():
            raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, f"Video not found: {path.name}", {"path": str(path)})
        if path.stat().st_size == 0:
            raise UptrackError(ErrorCode.VIDEO_LOAD_ERROR, "The video file is empty.", {"path": str(path)})
        with path.open("rb") as handle:
            check_container(handle.read(12))
    os.environ[_CAPTURE_OPTIONS_VARIABLE] = _CAPTURE_OPTIONS
    params = [cv2.CAP_PROP_N_THREADS, threads] + ([cv2.CAP_PROP_FORMAT, -1] if demux_only else [])
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
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


def probe_video(path: VideoSource, threads: int = 1, limits: MediaLimits = DEFAULT_LIMITS) -> VideoInfo:
    """Open the video, check it against `limits` and decode its first frame; raise a typed error when it is
    refused or cannot be read. A local file's container is checked here; for a URL the caller checks the
    object's first bytes with `check_container` (FFmpeg would refuse other formats, but only as a decode error)."""
    capture = _open(path, threads)
    try:
        _check_pixels(*_stream_size(capture), limits.max_frame_pixels, "video frame")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        _check_frames(count, limits)
        ok, first = capture.read()
        if not ok or first is None:
            raise UptrackError(ErrorCode.MEDIA_DECODE_ERROR, "No video frame could be decoded.", {"path": _shown(path)})
        height, width = first.shape[:2]
        _check_pixels(int(width), int(height), limits.max_frame_pixels, "video frame")
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if not _plausible_fps(fps):
            fps = DEFAULT_FPS
        if count <= 0:
            count = _count_packets(path, threads, limits.max_frames + 1)
            _check_frames(count, limits)
        elif isinstance(path, Path):
            count = presented_frames(path, count)  # an edit list may hide coded frames
        _check_duration(count / fps, limits)
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


def _stream_size(capture: cv2.VideoCapture) -> tuple[int, int]:
    """The stream's frame size as the decoder was opened with it, before this process decodes a frame."""
    return int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))


def _check_frames(count: int, limits: MediaLimits) -> None:
    if count > limits.max_frames:
        raise UptrackError(
            ErrorCode.VIDEO_TOO_LONG,
            f"The video has more than {limits.max_frames} frames.",
            {"maxFrames": limits.max_frames},
        )


def _check_duration(seconds: float, limits: MediaLimits) -> None:
    if limits.max_seconds is not None and seconds > limits.max_seconds:
        raise UptrackError(
            ErrorCode.VIDEO_TOO_LONG,
            f"The video is longer than {limits.max_seconds:g} seconds.",
            {"maxSeconds": limits.max_seconds},
        )


def _count_packets(path: VideoSource, threads: int, ceiling: int) -> int:
    """Frames of a container that does not say (a browser's WebM): its video packets, read without decoding,
    at most `ceiling` of them."""
    capture = _open(path, threads, demux_only=True)
    try:
        count = 0
        while count < ceiling and capture.grab():
            count += 1
        return count
    finally:
        capture.release()


def iter_frames(
    path: VideoSource,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    threads: int = 1,
    detect_cuts: bool = False,
) -> Iterator[Frame]:
    """Decode frames [start, stop) keeping every `stride`-th one, in display orientation.

    Skipped frames are only grabbed (decoded, not converted), which is the cheap path for H.264, unless
    `detect_cuts`: then every frame is converted and compared with the one before it, and a kept frame is flagged
    `cut` when a shot changed since the previous kept one. Decoding then starts `stride` frames early, so the flag
    of the first kept frame is the same whatever `start` is (chunks agree with the whole video).
    Timestamps come from the container when its frame rate is plausible, else from the default frame rate; they
    always increase.
    """
    first = max(0, start - stride) if detect_cuts else start
    capture = _open(path, threads)
    try:
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        clock = _Clock(fps if _plausible_fps(fps) else DEFAULT_FPS, trusted=_plausible_fps(fps))
        if first > 0:
            capture = _seek(capture, path, first, threads)
        watch = _CutWatch() if detect_cuts else None
        index = first
        while stop is None or index < stop:
            if not capture.grab():
                break
            stamp = clock.stamp(capture, index)
            kept = index >= start and (index - start) % stride == 0
            if kept or watch is not None:
                ok, image = capture.retrieve()
                if ok and image is not None:
                    pixels = np.asarray(image, dtype=np.uint8)
                    cut = watch is not None and watch.see(pixels, kept)
                    if kept:
                        yield Frame(index, stamp, pixels, cut)
            index += 1
    finally:
        capture.release()


class _CutWatch:
    """Whether a shot changed among the frames decoded since the last kept one."""

    def __init__(self) -> None:
        self._previous: Thumbnail | None = None
        self._pending = False

    def see(self, image: Image, kept: bool) -> bool:
        """Take the next decoded frame; for a kept one, whether a cut happened since the previous kept one."""
        current = thumbnail(image)
        self._pending |= self._previous is not None and is_cut(self._previous, current)
        self._previous = current
        cut, self._pending = self._pending, self._pending and not kept
        return cut


def _seek(capture: cv2.VideoCapture, path: VideoSource, start: int, threads: int) -> cv2.VideoCapture:
    """The capture positioned at frame `start`. A file without an index (Matroska written to a pipe, as live
    recorders do) cannot seek: FFmpeg silently stays at frame 0 and every later chunk would decode the clip's
    first frames under other numbers. There the frames before `start` are walked through instead (grabbed, not
    converted)."""
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    if int(capture.get(cv2.CAP_PROP_POS_FRAMES)) == start:
        return capture
    capture.release()
    capture = _open(path, threads)
    for _ in range(start):
        if not capture.grab():
            break
    return capture


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


def load_image(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> Image:
    """Decode a photo (JPEG/PNG/WebP/BMP/GIF), EXIF orientation applied, as BGR; its size is read from its
    header and checked first, so a small file that claims a huge picture is refused before it is decoded."""
    if not path.is_file() or path.stat().st_size == 0:
        raise UptrackError(ErrorCode.IMAGE_LOAD_ERROR, "The image file is missing or empty.", {"path": str(path)})
    encoded = path.read_bytes()
    size = image_size(encoded)
    if size is None:
        raise UptrackError(
            ErrorCode.IMAGE_LOAD_ERROR, "The file is not a JPEG, PNG, WebP, BMP or GIF image.", {"path": str(path)}
        )
    _check_pixels(*size, limits.max_image_pixels, "image")
    image = cv2.imdecode(np.frombuffer(encoded, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise UptrackError(
            ErrorCode.IMAGE_LOAD_ERROR, "The file could not be decoded as an image.", {"path": str(path)}
        )
    return np.asarray(image, dtype=np.uint8)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from an image's header bytes, without decoding it; None when the format is not one of
    JPEG, PNG, WebP, BMP, GIF or the header is cut short."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack_from(">II", data, 16)
            return int(width), int(height)
        if data.startswith(b"\xff\xd8"):
            return _jpeg_size(data)
        if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
            return _webp_size(data)
        if data.startswith(b"GIF8"):
            width, height = struct.unpack_from("<HH", data, 6)
            return int(width), int(height)
        if data.startswith(b"BM"):
            return _bmp_size(data)
    except (struct.error, IndexError):  # a header cut short
        return None
    return None


#: JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); not DHT (C4), JPG (C8), DAC (CC).
_JPEG_SOF: Final = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD9)})


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the marker segments to the frame header; the scan (0xDA) before it means no size."""
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_STANDALONE:
            at += 2
            continue
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, at + 5)
            return int(width), int(height)
        if marker == 0xDA:
            return None
        (length,) = struct.unpack_from(">H", data, at + 2)
        at += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if chunk == b"VP8L" and data[20] == 0x2F:  # lossless: 14-bit sizes minus one
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy key frame
        width, height = struct.unpack_from("<HH", data, 26)
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    return None


def _bmp_size(data: bytes) -> tuple[int, int]:
    (header,) = struct.unpack_from("<I", data, 14)
    if header == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack_from("<HH", data, 18)
        return int(width), int(height)
    width, height = struct.unpack_from("<ii", data, 18)
    return abs(int(width)), abs(int(height))  # a negative height means top-down rows
