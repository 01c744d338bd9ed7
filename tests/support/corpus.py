"""The bad-input corpus: messy phone uploads and hostile queries, generated at test time (never committed).

Every case is made in a temporary folder from the bundled sample clip (`samples/`, CC BY 3.0), a few shared photos
(`../shared/media/photos`, read-only) and FFmpeg's test sources, with the FFmpeg of the `imageio-ffmpeg` wheel
(libx264 and libx265 are in that build). Each `Case` names what a client sends (file, query, declared type and size)
and what must come back from `uptrack analyze` and from the cloud pipeline: `OK` (a completed analysis, checked
further by `Case.check`) or the contract's error code.
"""

from __future__ import annotations

import functools
import os
import struct
import subprocess
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import cv2
import numpy as np

from tests.support.paths import MEDIA, REPO

SAMPLE_VIDEO: Final = REPO / "samples" / "squat_rear_2reps_cc-by-3.0.mp4"
PHOTOS: Final = MEDIA / "photos"
SAMPLE_REPS: Final = 2
"""Squats in the sample clip (its true count; every clip derived from it keeps the same two reps)."""

OK: Final = "ok"
"""Expected outcome of a valid input: the analysis completes (`Analysis completed` is the last message)."""
PIPELINE_ONLY: Final = ""
"""For `Case.analyze`: the case is about what a client declares to the API (size, type) or about the service's
limits (duration), which `uptrack analyze` on a local file does not have."""

MIB: Final = 1024 * 1024
PIPELINE_MAX_VIDEO_BYTES: Final = 16 * MIB
"""MAX_VIDEO_BYTES of the stack the corpus runs on (the template's floor is 1 MiB): the over-limit cases stay small."""

Messages = list[dict[str, Any]]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffmpeg(*args: str | Path) -> None:
    """Run the wheel's FFmpeg quietly; raise with its stderr on failure."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ffmpeg {' '.join(map(str, args))} failed: {done.stderr[-2000:]}")


def has_encoder(name: str) -> bool:
    listed = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False)
    return f" {name} " in listed.stdout


# -- MP4 surgery --------------------------------------------------------------------------------------------------


def _box(data: bytes | bytearray, name: bytes) -> int:
    """Offset of the first box called `name` (its size field), or raise."""
    at = data.find(name)
    if at < 4:
        raise ValueError(f"no {name!r} box")
    return at - 4


def set_sample_durations(data: bytes, delta: int) -> bytes:
    """Every entry of the video track's `stts` (time-to-sample) table set to `delta` ticks: the container's frame
    rate becomes timescale / delta (delta 0: zero-length samples, i.e. "0 fps"; delta 1: thousands of fps)."""
    patched = bytearray(data)
    stts = _box(patched, b"stts")
    (entries,) = struct.unpack_from(">I", patched, stts + 12)
    for entry in range(entries):
        struct.pack_into(">I", patched, stts + 16 + 8 * entry + 4, delta)
    return bytes(patched)


def set_media_timescale(data: bytes, timescale: int) -> bytes:
    """The video track's `mdhd` timescale (ticks per second) replaced: 0 is invalid, FFmpeg falls back to 1."""
    patched = bytearray(data)
    mdhd = _box(patched, b"mdhd")
    assert patched[mdhd + 8] == 0, "version 0 mdhd expected"
    struct.pack_into(">I", patched, mdhd + 20, timescale)
    return bytes(patched)


def moov_offset(data: bytes) -> int:
    return _box(data, b"moov")


def exif_jpeg(image: np.ndarray, orientation: int) -> bytes:
    """A JPEG of `image` with a hand-built EXIF APP1 segment holding only the Orientation tag (0x0112)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    tiff = b"MM\x00*" + struct.pack(">I", 8) + ifd
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = encoded.tobytes()
    return data[:2] + segment + data[2:]  # right after SOI


def png_bomb(width: int, height: int) -> bytes:
    """A valid, fully decodable PNG of `width` x `height` black pixels at 1 bit a pixel: zlib squeezes the rows
    to about 1/1000 of their size, while a decoder asked for colour allocates 3 bytes a pixel."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    packer = zlib.compressobj(9)
    rows = b"".join(packer.compress(row * 1024) for _ in range(height // 1024)) + packer.compress(row * (height % 1024))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows + packer.flush()) + chunk(b"IEND", b"")


SDP_SESSION: Final = (
    b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
)
"""An RTP session description: FFmpeg's sdp demuxer would open UDP port 5004 and wait for packets."""


# -- the media --------------------------------------------------------------------------------------------------


class Media:
    """Builds (once each) the files of the corpus in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.folder / name

    @functools.cached_property
    def base(self) -> Path:
        """The sample at 640x360, H.264, no audio, moov first (2 squats, 7.1 s)."""
        out = self.path("base.mp4")
        ffmpeg("-i", SAMPLE_VIDEO, "-vf", "scale=640:360", "-an", "-c:v", "libx264", "-preset", "ultrafast",
               "-crf", "26", "-movflags", "+faststart", out)  # fmt: skip
        return out

    def write(self, name: str, data: bytes) -> Path:
        out = self.path(name)
        out.write_bytes(data)
        return out

    def zero_bytes(self) -> Path:
        return self.write("empty.mp4", b"")

    def random_bytes(self) -> Path:
        return self.write("random.mp4", np.random.default_rng(8).integers(0, 256, 256 * 1024, np.uint8).tobytes())

    def truncated_no_moov(self) -> Path:
        """A recording cut off before the phone wrote the index (moov last, file ends inside mdat)."""
        out = self.path("moov_last.mp4")
        ffmpeg("-i", self.base, "-c", "copy", out)
        data = out.read_bytes()
        return self.write("truncated_no_moov.mp4", data[: moov_offset(data) // 2])

    def truncated_mid_stream(self) -> Path:
        """The index is there (faststart) but the media data stops at 45 %: the first seconds decode."""
        data = self.base.read_bytes()
        return self.write("truncated_mid_stream.mp4", data[: int(len(data) * 0.45)])

    def jpeg_named_mp4(self) -> Path:
        return self.write("photo.mp4", self._frame_jpeg())

    def text_file(self) -> Path:
        return self.write("notes.mp4", b"ffmpeg -i in.mov out.mp4\n" * 2000)

    def audio_only(self) -> Path:
        out = self.path("audio_only.mp4")
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", out)
        return out

    def one_by_one(self) -> Path:
        out = self.path("one_by_one.mp4")
        ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=1x1:r=30:d=2", "-c:v", "libx264", "-pix_fmt", "yuv444p", out)
        return out

    def eight_k(self) -> Path:
        """7680x4320, 1 s at 5 fps: the sample scaled up (a person is in it)."""
        out = self.path("eight_k.mp4")
        ffmpeg("-ss", "1", "-t", "1", "-i", self.base, "-vf", "scale=7680:4320,fps=5", "-c:v", "libx264",
               "-preset", "ultrafast", "-crf", "40", out)  # fmt: skip
        return out

    def fps_zero(self) -> Path:
        return self.write("fps_zero.mp4", set_sample_durations(self.base.read_bytes(), 0))

    def timescale_zero(self) -> Path:
        return self.write("timescale_zero.mp4", set_media_timescale(self.base.read_bytes(), 0))

    def fps_absurd(self) -> Path:
        return self.write("fps_absurd.mp4", set_sample_durations(self.base.read_bytes(), 1))

    def variable_frame_rate(self) -> Path:
        """Frames dropped unevenly (all kept, then 2 of 3, then 1 of 2) with their original timestamps kept."""
        out = self.path("vfr.mp4")
        keep = "if(lt(n,70),1,if(lt(n,140),lt(mod(n,3),2),eq(mod(n,2),0)))"
        ffmpeg("-i", self.base, "-vf", f"select='{keep}'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset",
               "ultrafast", "-crf", "26", out)  # fmt: skip
        return out

    def rotated(self, degrees: int) -> Path:
        """The phone's way: pixels stored sideways, a display-matrix tag saying how to turn them upright."""
        stored = {90: "transpose=1", 180: "hflip,vflip", 270: "transpose=2"}[degrees]  # turned clockwise
        sideways = self.path(f"sideways_{degrees}.mp4")
        ffmpeg("-i", self.base, "-vf", stored, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", sideways)
        out = self.path(f"rotated_{degrees}.mp4")
        # the display matrix turns counter-clockwise by the given angle: undo the clockwise storage
        ffmpeg("-display_rotation", str(degrees), "-i", sideways, "-c", "copy", out)
        return out

    def hevc_mov(self) -> Path:
        out = self.path("hevc.mov")
        ffmpeg("-i", self.base, "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error",
               "-tag:v", "hvc1", out)  # fmt: skip
        return out

    def raw_h264(self, seconds: int = 60) -> Path:
        """An H.264 elementary stream with no container: no frame count, no duration (64x64, 30 fps)."""
        out = self.path(f"raw_{seconds}s.h264")
        ffmpeg("-f", "lavfi", "-i", f"testsrc=s=64x64:r=30:d={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
               "-f", "h264", out)  # fmt: skip
        return out

    def sdp_file(self) -> Path:
        return self.write("session.sdp", SDP_SESSION)

    def huge_frames(self, side: int = 15360) -> Path:
        """`side` x `side` H.264, 2 grey frames: under 1 MB on disk, 350 MB a frame once decoded."""
        out = self.path(f"huge_{side}.mp4")
        ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s={side}x{side}:r=1", "-frames:v", "2", "-c:v", "libx264",
               "-preset", "ultrafast", out)  # fmt: skip
        return out

    def huge_png(self) -> Path:
        return self.write("bomb.png", png_bomb(32768, 32768))

    def many_frames(self) -> Path:
        """38 400 frames (160 s at 240 fps, 64x64): within the duration limit, over the frame limit."""
        out = self.path("many_frames.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc=s=64x64:r=240:d=160", "-c:v", "libx264", "-preset", "ultrafast", out)
        return out

    def mkv_no_length(self) -> Path:
        """The sample in Matroska written to a pipe, as a live recorder does: no duration, no index, no count."""
        out = self.path("no_length.mkv")
        with out.open("wb") as sink:
            done = subprocess.run(
                [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", "-i", str(self.base), "-c", "copy",
                 "-f", "matroska", "pipe:1"],
                stdout=sink, stderr=subprocess.PIPE, timeout=120, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])
        return out

    def long_clip(self, seconds: int) -> Path:
        """A tiny test pattern (64x64, 1 fps) lasting `seconds`: cheap to make and to analyse."""
        out = self.path(f"long_{seconds}s.mp4")
        ffmpeg("-f", "lavfi", "-i", f"testsrc=size=64x64:rate=1:duration={seconds}", "-c:v", "libx264",
               "-preset", "ultrafast", out)  # fmt: skip
        return out

    def no_person(self) -> Path:
        out = self.path("no_person.mp4")
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=15:duration=3", "-c:v", "libx264", "-preset",
               "ultrafast", out)  # fmt: skip
        return out

    def several_people(self) -> Path:
        """The squatter and her mirror image side by side: two people doing the same two reps."""
        out = self.path("two_people.mp4")
        ffmpeg("-i", self.base, "-filter_complex", "[0:v]split[a][b];[b]hflip[m];[a][m]hstack", "-c:v", "libx264",
               "-preset", "ultrafast", "-crf", "26", out)  # fmt: skip
        return out

    def half_out_of_frame(self) -> Path:
        """Only the left 40 % of the picture: half of the person is outside it."""
        out = self.path("half_out.mp4")
        ffmpeg("-i", self.base, "-vf", "crop=iw*0.4:ih:0:0", "-c:v", "libx264", "-preset", "ultrafast", out)
        return out

    def over_limit(self) -> Path:
        """A valid clip followed by padding to just over the pipeline's MAX_VIDEO_BYTES (decoders ignore it)."""
        out = self.write("over_limit.mp4", self.base.read_bytes())
        with out.open("r+b") as handle:
            handle.truncate(PIPELINE_MAX_VIDEO_BYTES + MIB)  # sparse: no disk used for the padding
        return out

    def _frame(self, second: float = 1.0) -> np.ndarray:
        capture = cv2.VideoCapture(str(SAMPLE_VIDEO))
        capture.set(cv2.CAP_PROP_POS_MSEC, second * 1000)
        ok, image = capture.read()
        capture.release()
        assert ok
        return np.asarray(image)

    def _frame_jpeg(self) -> bytes:
        ok, encoded = cv2.imencode(".jpg", self._frame())
        assert ok
        return encoded.tobytes()

    def crowd_photo(self) -> Path:
        photo = PHOTOS / "coco_000000197388_skiers_crowd.jpg"
        return self.write("crowd.jpg", photo.read_bytes())

    def exif_rotated(self) -> Path:
        """A standing man stored turned 90° counter-clockwise, EXIF Orientation 6 saying "turn clockwise"."""
        upright = cv2.imread(str(PHOTOS / "mpii_051423444_standing_man.jpg"))
        assert upright is not None
        stored = cv2.rotate(upright, cv2.ROTATE_90_COUNTERCLOCKWISE)
        return self.write("exif_rotated.jpg", exif_jpeg(stored, 6))

    def corrupt_png(self) -> Path:
        ok, encoded = cv2.imencode(".png", self._frame())
        assert ok
        data = bytearray(encoded.tobytes())
        garbage = np.random.default_rng(5).integers(0, 256, len(data) - len(data) // 3, np.uint8).tobytes()
        data[len(data) // 3 :] = garbage
        return self.write("corrupt.png", bytes(data[: len(data) // 2]))

    def text_as_image(self) -> Path:
        return self.write("notes.jpg", b"<svg onload=alert(1)>" * 100)

    def video_as_image(self) -> Path:
        return self.base

    def one_pixel_png(self) -> Path:
        ok, encoded = cv2.imencode(".png", np.zeros((1, 1, 3), np.uint8))
        assert ok
        return self.write("one_pixel.png", encoded.tobytes())

    def small_clip(self) -> Path:
        """2 s of the sample at 320x180 (the file the query cases send: they fail before it is read)."""
        out = self.path("small.mp4")
        ffmpeg("-t", "2", "-i", self.base, "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast", out)
        return out


# -- what must come back -----------------------------------------------------------------------------------------


def _final(messages: Messages) -> dict[str, Any]:
    return next(m for m in reversed(messages) if m["type"] == "counter" and m.get("final"))


def summary(messages: Messages) -> str:
    """The final count and the warnings of a stream, for the results table."""
    parts = []
    final = [m for m in messages if m["type"] == "counter" and m.get("final")]
    if final:
        parts.append(f"count {final[-1]['current_count']}")
    parts += [f"warning {m['code']}" for m in messages if m["type"] == "warning"]
    return ", ".join(parts)


def count_is(expected: int) -> Callable[[Messages], None]:
    def check(messages: Messages) -> None:
        assert _final(messages)["current_count"] == expected, _final(messages)

    return check


def upright(messages: Messages) -> None:
    """The person stands the right way up in the analysed frames (so the rotation tag was applied)."""
    heads, feet = [], []
    for message in messages:
        points = message.get("keypoints") if message["type"] == "keypoints" else None
        if points is None and message["type"] == "keypoints_batch":
            points = [p for frame in message["data"] for p in frame["keypoints"]]
        for point in points or []:
            if point["score"] >= 0.3 and point["name"] == "nose":
                heads.append(point["y"])
            if point["score"] >= 0.3 and point["name"] in ("left_ankle", "right_ankle"):
                feet.append(point["y"])
    assert heads and feet, "no confident nose and ankle keypoints"
    assert float(np.median(heads)) + 0.2 < float(np.median(feet)), (np.median(heads), np.median(feet))


def all_of(*checks: Callable[[Messages], None]) -> Callable[[Messages], None]:
    def check(messages: Messages) -> None:
        for each in checks:
            each(messages)

    return check


def no_reps(messages: Messages) -> None:
    assert _final(messages)["current_count"] == 0


def overlay_of_size(width: int, height: int) -> Callable[[Messages], None]:
    """The `image_overlay` PNG has the display size (EXIF orientation applied)."""

    def check(messages: Messages) -> None:
        import base64

        overlay = next(m for m in messages if m["type"] == "image_overlay")
        png = base64.b64decode(overlay["data"].split(",", 1)[1])
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[:2] == (height, width), image.shape if image is not None else None

    return check


def has_pose(messages: Messages) -> None:
    keypoints = [m for m in messages if m["type"] == "keypoints"]
    assert keypoints and len(keypoints[0]["data"]) == 17
    assert any(m["type"] == "image_overlay" for m in messages)


@dataclass(frozen=True)
class Case:
    """One messy upload: what the client sends, and what must come back from `uptrack analyze` and the pipeline."""

    name: str
    what: str
    make: Callable[[Media], Path]
    query: str
    content_type: str
    analyze: str
    pipeline: str
    check: Callable[[Messages], None] | None = None
    declared_bytes: int | None = None
    """What the client declares in POST /uploads (default: the file's size)."""
    refused_status: int | None = None
    """The pipeline refuses the upload at POST /uploads with this HTTP status (nothing is stored, nothing runs)."""
    needs_photos: bool = False
    analyze_args: Sequence[str] = field(default=())
    warnings: frozenset[str] = frozenset()
    """The `warning` codes a completed analysis must carry (and no other)."""


SQUAT: Final = "exercise=squat"
SQUAT_KEYPOINTS: Final = "exercise=squat&keypoints=true"
IMAGE: Final = "source=image"

MEDIA_CASES: Final[tuple[Case, ...]] = (
    Case("zero_bytes", "0-byte file declared as 0 bytes", Media.zero_bytes, SQUAT, "video/mp4",
         "video_load_error", "invalid_params", refused_status=400),
    Case("zero_bytes_declared_1", "0-byte object in the bucket (client declared 1 byte)", Media.zero_bytes, SQUAT,
         "video/mp4", PIPELINE_ONLY, "video_load_error", declared_bytes=1),
    Case("random_bytes", "256 KiB of random bytes named .mp4", Media.random_bytes, SQUAT, "video/mp4",
         "unsupported_media_format", "unsupported_media_format"),
    Case("truncated_no_moov", "MP4 cut before its moov index", Media.truncated_no_moov, SQUAT, "video/mp4",
         "media_decode_error", "media_decode_error"),
    Case("truncated_mid_stream", "MP4 cut mid-stream at 45 % (moov first)", Media.truncated_mid_stream, SQUAT,
         "video/mp4", OK, OK, count_is(1), warnings=frozenset({"media_truncated"})),
    Case("timescale_zero", "mdhd timescale 0 (FFmpeg decodes one frame of 213)", Media.timescale_zero, SQUAT,
         "video/mp4", "media_decode_error", "media_decode_error"),
    Case("jpeg_named_mp4", "JPEG named .mp4, source=video", Media.jpeg_named_mp4, SQUAT, "video/mp4",
         "video_load_error", "video_load_error", analyze_args=("--source", "video")),
    Case("text_file", "text file named .mp4", Media.text_file, SQUAT, "video/mp4",
         "unsupported_media_format", "unsupported_media_format"),
    Case("audio_only", "MP4 with only an AAC audio track", Media.audio_only, SQUAT, "video/mp4",
         "media_decode_error", "media_decode_error"),
    Case("one_by_one", "1x1-pixel H.264 video", Media.one_by_one, SQUAT, "video/mp4", OK, OK, no_reps),
    Case("eight_k", "7680x4320 H.264 (8K), 5 frames", Media.eight_k, SQUAT, "video/mp4", OK, OK),
    Case("fps_zero", "container says 0 fps (every sample duration 0)", Media.fps_zero, SQUAT, "video/mp4",
         OK, OK, count_is(SAMPLE_REPS)),
    Case("fps_absurd", "container says 15 360 fps", Media.fps_absurd, SQUAT, "video/mp4", OK, OK,
         count_is(SAMPLE_REPS)),
    Case("variable_frame_rate", "variable frame rate (30 -> 20 -> 15 fps)", Media.variable_frame_rate, SQUAT,
         "video/mp4", OK, OK, count_is(SAMPLE_REPS)),
    *(
        Case(f"rotated_{angle}", f"phone video, display matrix {angle}°", functools.partial(Media.rotated,
             degrees=angle), SQUAT_KEYPOINTS, "video/mp4", OK, OK, all_of(count_is(SAMPLE_REPS), upright))
        for angle in (90, 180, 270)
    ),
    Case("hevc_mov", "HEVC (libx265) in a QuickTime .mov", Media.hevc_mov, SQUAT, "video/quicktime", OK, OK,
         count_is(SAMPLE_REPS)),
    Case("ten_minutes", "10-minute clip (600 s, 64x64, 1 fps)", functools.partial(Media.long_clip, seconds=600),
         SQUAT, "video/mp4", OK, OK, no_reps),
    Case("eleven_minutes", "11-minute clip (over MAX_VIDEO_SECONDS=600)", functools.partial(Media.long_clip,
         seconds=660), SQUAT, "video/mp4", PIPELINE_ONLY, "video_too_long"),
    Case("raw_h264_stream", "raw H.264 elementary stream, no container (60 s, 64x64)", Media.raw_h264, SQUAT,
         "video/mp4", "unsupported_media_format", "unsupported_media_format"),
    Case("sdp_file", "SDP file describing an RTP stream on 127.0.0.1:5004", Media.sdp_file, SQUAT, "video/mp4",
         "unsupported_media_format", "unsupported_media_format"),
    Case("huge_frames", "15360x15360 H.264, 2 frames (under 1 MB)", Media.huge_frames, SQUAT, "video/mp4",
         "media_dimensions_too_large", "media_dimensions_too_large"),
    Case("many_frames", "38 400 frames (160 s at 240 fps, 64x64; MAX_VIDEO_FRAMES=36000)", Media.many_frames, SQUAT,
         "video/mp4", "video_too_long", "video_too_long"),
    Case("mkv_no_length", "Matroska from a pipe: no duration, index or frame count", Media.mkv_no_length, SQUAT,
         "video/x-matroska", OK, OK, count_is(SAMPLE_REPS)),
    Case("no_person", "test pattern, nobody in it", Media.no_person, SQUAT_KEYPOINTS, "video/mp4", OK, OK, no_reps),
    Case("several_people", "two people squatting side by side", Media.several_people, SQUAT, "video/mp4", OK, OK,
         count_is(SAMPLE_REPS)),
    Case("half_out_of_frame", "person half out of frame (left 40 % kept)", Media.half_out_of_frame, SQUAT,
         "video/mp4", OK, OK),
    Case("over_size_limit_declared", "declares 600 MiB (limit 500 MiB in the template)", Media.small_clip, SQUAT,
         "video/mp4", PIPELINE_ONLY, "media_too_large", declared_bytes=600 * MIB, refused_status=413),
    Case("over_size_limit_sent", "declares 1 MiB, sends 17 MiB (limit 16 MiB on this stack)", Media.over_limit,
         SQUAT, "video/mp4", OK, "media_too_large", declared_bytes=MIB),
    Case("wrong_content_type", "declares text/html for a video", Media.small_clip, SQUAT, "text/html",
         PIPELINE_ONLY, "invalid_params", refused_status=400),
    Case("crowd_photo", "photo of a crowd (5 skiers)", Media.crowd_photo, f"{IMAGE}&keypoints=true", "image/jpeg", OK,
         OK, has_pose, needs_photos=True, warnings=frozenset({"multiple_people"})),
    Case("exif_rotated", "JPEG stored sideways, EXIF Orientation 6", Media.exif_rotated, f"{IMAGE}&keypoints=true",
         "image/jpeg", OK, OK, all_of(has_pose, overlay_of_size(1280, 720), upright), needs_photos=True),
    Case("corrupt_png", "PNG with its second half garbage, cut short", Media.corrupt_png, IMAGE, "image/png",
         "image_load_error", "image_load_error"),
    Case("text_as_image", "text file sent as a JPEG", Media.text_as_image, IMAGE, "image/jpeg",
         "image_load_error", "image_load_error"),
    Case("video_as_image", "MP4 sent with source=image", Media.video_as_image, IMAGE, "image/jpeg",
         "image_load_error", "image_load_error"),
    Case("one_pixel_png", "1x1 PNG photo", Media.one_pixel_png, IMAGE, "image/png", OK, OK),
    Case("png_bomb", "valid 32768x32768 PNG, 1-bit (130 KB; 3 GiB decoded)", Media.huge_png, IMAGE, "image/png",
         "media_dimensions_too_large", "media_dimensions_too_large"),
)  # fmt: skip


LONG = "a" * 5000
QUERY_CASES: Final[tuple[Case, ...]] = (
    Case("query_too_long", "query of 20 000 characters", Media.small_clip, f"exercise=squat&uploadLabel={'x' * 20000}",
         "video/mp4", "invalid_params", "invalid_params", refused_status=400),
    Case("long_exercise", "exercise= 5 000 characters", Media.small_clip, f"exercise={LONG}", "video/mp4",
         "invalid_exercise", "invalid_exercise", refused_status=400),
    Case("unicode_exercise", "exercise=スクワット💪", Media.small_clip, "exercise=%E3%82%B9%E3%82%AF%E3%83%AF%E3%83"
         "%83%E3%83%88%F0%9F%92%AA", "video/mp4", "invalid_exercise", "invalid_exercise", refused_status=400),
    Case("unicode_label", "display label with emoji and RTL text (valid)", Media.small_clip,
         "exercise=squat&uploadLabel=%F0%9F%92%AA%20%D7%A9%D7%9C%D7%95%D7%9D%E2%80%AE", "video/mp4", OK, OK),
    Case("sql_injection", "exercise=squat' OR '1'='1", Media.small_clip, "exercise=squat%27%20OR%20%271%27%3D%271",
         "video/mp4", "invalid_exercise", "invalid_exercise", refused_status=400),
    Case("path_traversal_reference", "reference=../../etc/passwd", Media.small_clip,
         "reference=..%2F..%2Fetc%2Fpasswd", "video/mp4", "invalid_params", "invalid_params", refused_status=400),
    Case("script_injection", "exercise=<script>alert(1)</script>", Media.small_clip,
         "exercise=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "video/mp4", "invalid_exercise", "invalid_exercise",
         refused_status=400),
    Case("null_byte", "exercise=squat%00", Media.small_clip, "exercise=squat%00", "video/mp4",
         "invalid_exercise", "invalid_exercise", refused_status=400),
    Case("file_url", "videoSrc=file:///etc/passwd", Media.small_clip, "videoSrc=file%3A%2F%2F%2Fetc%2Fpasswd",
         "video/mp4", "invalid_params", "invalid_params", refused_status=400),
    Case("metadata_url", "videoSrc=http://169.254.169.254/latest/meta-data/", Media.small_clip,
         "videoSrc=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F", "video/mp4", OK, "invalid_params",
         refused_status=400),
    *(
        Case(f"port_{name}", f"videoSrc=http://example.com:{port}/v.mp4", Media.small_clip,
             f"videoSrc=http%3A%2F%2Fexample.com%3A{port}%2Fv.mp4", "video/mp4", "invalid_params", "invalid_params",
             refused_status=400)
        for name, port in (("out_of_range", "99999"), ("not_a_number", "abc"), ("negative", "-1"))
    ),
    Case("negative_height", "userHeightCm=-170", Media.small_clip, "exercise=squat&userHeightCm=-170", "video/mp4",
         "invalid_params", "invalid_params", refused_status=400),
    Case("nan_height", "userHeightCm=NaN", Media.small_clip, "exercise=squat&userHeightCm=NaN", "video/mp4",
         "invalid_params", "invalid_params", refused_status=400),
    Case("huge_number", "devicePitchDeg=1e309", Media.small_clip, "exercise=squat&devicePitchDeg=1e309", "video/mp4",
         "invalid_params", "invalid_params", refused_status=400),
    Case("repeated_conflicting", "exercise=squat&exercise=push_up", Media.small_clip,
         "exercise=squat&exercise=push_up", "video/mp4", "invalid_params", "invalid_params", refused_status=400),
    Case("repeated_same", "exercise=squat twice, minGrade=A then d (valid: last minGrade wins)",
         Media.small_clip, "exercise=squat&exercise=squat&minGrade=A&minGrade=d", "video/mp4", OK, OK),
    Case("bad_min_grade", "minGrade=F", Media.small_clip, "exercise=squat&minGrade=F", "video/mp4",
         "invalid_params", "invalid_params", refused_status=400),
    Case("too_many_params", "250 parameters", Media.small_clip, "&".join(f"p{i}=1" for i in range(250)), "video/mp4",
         "invalid_params", "invalid_params", refused_status=400),
)  # fmt: skip

CASES: Final = MEDIA_CASES + QUERY_CASES


def photos_available() -> bool:
    return (PHOTOS / "mpii_051423444_standing_man.jpg").is_file()


def environment_summary() -> dict[str, str]:
    return {"ffmpeg": ffmpeg_exe(), "libx265": str(has_encoder("libx265")), "cpus": str(os.cpu_count())}
