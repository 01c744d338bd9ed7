"""Media probing and decoding on real clips and on broken files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.media import iter_frames, load_image, media_kind, probe_video
from uptrack.mp4 import presented_frames

from tests.support.paths import SAMPLE_VIDEO


def test_probe_reports_the_sample_as_published() -> None:
    info = probe_video(SAMPLE_VIDEO)
    assert (info.width, info.height) == (1280, 720)
    assert info.frame_count == 213
    assert info.fps == pytest.approx(30.0)
    assert info.duration_s == pytest.approx(7.1, abs=0.05)
    assert info.codec == "h264"


def test_probe_matches_manifest_for_every_clip(media_dir: Path, manifest: list[dict[str, str]]) -> None:
    for row in manifest:
        if not row["file"].endswith(".mp4"):
            continue
        info = probe_video(media_dir / row["file"])
        assert (info.width, info.height) == (int(row["width"]), int(row["height"])), row["file"]
        assert info.fps == pytest.approx(float(row["fps"]), rel=0.01), row["file"]
        assert info.duration_s == pytest.approx(float(row["duration_s"]), abs=0.1), row["file"]


def test_strided_range_decoding_returns_the_asked_frames() -> None:
    frames = list(iter_frames(SAMPLE_VIDEO, start=30, stop=60, stride=5))
    assert [f.index for f in frames] == [30, 35, 40, 45, 50, 55]
    assert frames[0].image.shape == (720, 1280, 3)
    stamps = np.array([f.timestamp_ms for f in frames])
    assert np.allclose(np.diff(stamps), 5000 / 30, atol=2)
    assert stamps[0] == pytest.approx(1000.0, abs=2)


def test_seeked_frame_equals_sequentially_decoded_frame() -> None:
    sequential = [f.image for f in iter_frames(SAMPLE_VIDEO, stop=50)][45]
    seeked = next(iter_frames(SAMPLE_VIDEO, start=45, stop=46)).image
    assert np.abs(sequential.astype(int) - seeked.astype(int)).mean() < 1.0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", ErrorCode.VIDEO_LOAD_ERROR),
        (bytes(range(256)) * 64, ErrorCode.UNSUPPORTED_MEDIA_FORMAT),
        (b"just some text, certainly not a video\n" * 20, ErrorCode.UNSUPPORTED_MEDIA_FORMAT),
    ],
)
def test_broken_videos_raise_typed_errors(tmp_path: Path, content: bytes, code: ErrorCode) -> None:
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)
    with pytest.raises(UptrackError) as raised:
        probe_video(path)
    assert raised.value.code == code


def test_truncated_mp4_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.mp4"
    path.write_bytes(SAMPLE_VIDEO.read_bytes()[:4096])
    with pytest.raises(UptrackError) as raised:
        probe_video(path)
    assert raised.value.code == ErrorCode.MEDIA_DECODE_ERROR


def test_photos_are_told_from_videos_by_content(media_dir: Path, tmp_path: Path) -> None:
    photo = media_dir / "photos" / "skimage_astronaut_upper_body.png"
    disguised = tmp_path / "photo.mp4"
    disguised.write_bytes(photo.read_bytes())
    assert media_kind(disguised) == "image"
    assert media_kind(SAMPLE_VIDEO) == "video"
    assert load_image(photo).shape == (512, 512, 3)


def test_corrupt_image_is_an_image_load_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(UptrackError) as raised:
        load_image(path)
    assert raised.value.code == ErrorCode.IMAGE_LOAD_ERROR


def test_an_edit_list_cutting_frames_is_honoured_without_decoding(
    media_dir: Path, manifest: list[dict[str, str]]
) -> None:
    """A clip cut by an MP4 edit list keeps its coded frames in the file; only the presented ones are announced."""
    cut = [row for row in manifest if row["file"].endswith(".mp4") and "edit list" in row["notes"]]
    assert cut, "the manifest names no clip with an edit list"
    for row in cut:
        path = media_dir / row["file"]
        capture = cv2.VideoCapture(str(path))
        coded = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        decodable = 0
        while capture.grab():
            decodable += 1
        capture.release()
        assert coded > decodable, row["file"]
        assert presented_frames(path, coded) == decodable == probe_video(path).frame_count
    assert presented_frames(SAMPLE_VIDEO, 213) == 213  # a whole clip's edit (B-frame offset) cuts nothing
