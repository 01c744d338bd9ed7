"""Work limits checked before the work: crafted files, made at test time, are refused quickly and cheaply.

Each file here once made the service do unbounded work: a raw H.264 stream was decoded to its end to count its
frames, an SDP file made FFmpeg open UDP ports and wait, a 15360x15360 clip or a PNG bomb took gigabytes.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import DEFAULT_LIMITS, MediaLimits, container_of, image_size, load_image, probe_video
from uptrack_service.settings import ServiceSettings

from tests.support.corpus import SDP_SESSION, Media, png_bomb

QUICK_S = 3.0
"""A refusal takes well under this on the shared 2-core machine; the old code needed 10 s to minutes."""


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("limits"))


def _refused(call: object, *args: object, **kwargs: object) -> tuple[UptrackError, float]:
    began = time.monotonic()
    with pytest.raises(UptrackError) as raised:
        call(*args, **kwargs)  # type: ignore[operator]
    return raised.value, time.monotonic() - began


def test_a_raw_h264_stream_is_refused_before_ffmpeg_counts_its_frames(media: Media) -> None:
    error, seconds = _refused(probe_video, media.raw_h264(seconds=120))
    assert error.code == ErrorCode.UNSUPPORTED_MEDIA_FORMAT and seconds < QUICK_S


def test_an_sdp_file_never_reaches_ffmpeg(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(SDP_SESSION)
    error, seconds = _refused(probe_video, path)
    assert error.code == ErrorCode.UNSUPPORTED_MEDIA_FORMAT and seconds < QUICK_S


def test_the_accepted_containers_are_recognised_by_their_first_bytes(media: Media) -> None:
    assert container_of(media.base.read_bytes()[:12]) == "mp4"
    assert container_of(media.mkv_no_length().read_bytes()[:12]) == "matroska"
    assert container_of(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert container_of(b"RIFF\x00\x00\x00\x00WEBPVP8 ") is None
    assert container_of(SDP_SESSION[:12]) is None
    assert container_of(b"#EXTM3U\n#EXT-X-VERSION:3\n") is None  # an HLS playlist


def test_frames_over_the_pixel_limit_are_refused_from_the_stream_parameters(media: Media) -> None:
    clip = media.huge_frames(side=8192)  # 67 MP, twice the largest H.264/HEVC level 6.2 frame
    error, seconds = _refused(probe_video, clip)
    assert error.code == ErrorCode.MEDIA_DIMENSIONS_TOO_LARGE and seconds < QUICK_S
    assert error.details == {"width": 8192, "height": 8192, "maxPixels": DEFAULT_LIMITS.max_frame_pixels}
    assert probe_video(clip, limits=MediaLimits(max_frame_pixels=8192 * 8192)).width == 8192


def test_a_frame_count_over_the_limit_is_refused_from_the_container(media: Media) -> None:
    error, _ = _refused(probe_video, media.base, limits=MediaLimits(max_frames=100))
    assert error.code == ErrorCode.VIDEO_TOO_LONG and error.details == {"maxFrames": 100}


def test_a_container_without_a_count_is_counted_without_decoding_and_only_up_to_the_limit(media: Media) -> None:
    clip = media.mkv_no_length()
    capture = cv2.VideoCapture(str(clip))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) <= 0  # the container really does not say
    capture.release()
    assert probe_video(clip).frame_count == 213  # the sample's frames, every one
    error, _ = _refused(probe_video, clip, limits=MediaLimits(max_frames=100))
    assert error.code == ErrorCode.VIDEO_TOO_LONG


def test_the_duration_limit_is_a_typed_error(media: Media) -> None:
    error, _ = _refused(probe_video, media.base, limits=MediaLimits(max_seconds=5.0))
    assert error.code == ErrorCode.VIDEO_TOO_LONG and error.details == {"maxSeconds": 5.0}


def test_a_png_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb(32768, 32768))
    assert bomb.stat().st_size < 1024 * 1024
    error, seconds = _refused(load_image, bomb)
    assert error.code == ErrorCode.MEDIA_DIMENSIONS_TOO_LARGE and seconds < QUICK_S
    assert (error.details["width"], error.details["height"]) == (32768, 32768)


@pytest.mark.parametrize(
    ("extension", "flags"),
    [
        (".png", []),
        (".jpg", []),
        (".jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 80]),
        (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),  # lossless
        (".bmp", []),
    ],
)
def test_image_sizes_come_from_the_header_as_the_decoder_sees_them(extension: str, flags: list[int]) -> None:
    picture = np.random.default_rng(3).integers(0, 256, (123, 457, 3), np.uint8)
    ok, encoded = cv2.imencode(extension, picture, flags)
    assert ok
    assert image_size(encoded.tobytes()) == (457, 123)


def test_headers_cut_short_or_unknown_formats_have_no_size() -> None:
    assert image_size(b"\x89PNG\r\n\x1a\n\x00\x00") is None
    assert image_size(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None
    assert image_size(b"RIFF\x00\x00\x00\x00WEBPVP8L") is None
    assert image_size(b"II*\x00") is None  # TIFF: not an accepted photo format


def test_service_settings_and_core_share_the_limits() -> None:
    fields = ServiceSettings.model_fields
    assert fields["max_frame_pixels"].default == DEFAULT_LIMITS.max_frame_pixels
    assert fields["max_video_frames"].default == DEFAULT_LIMITS.max_frames
