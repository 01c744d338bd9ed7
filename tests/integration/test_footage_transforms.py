"""The same workout filmed a little differently counts the same: shared clips mirrored (the person facing the other
way), lowered to a small upload's resolution and re-timed to 25 fps, each counted by `uptrack analyze`'s own path
(`analyze_path`, default settings) and compared with the original clip's count and the manifest's true count.

The copies are written at test time with OpenCV (mp4v, no audio), the way a phone or an upload tool re-encodes;
the frame-rate copy drops or repeats frames, so the pipeline sees another stride and other sampled instants. Each
case is one clip and one transformation (`CASES`), so the module stays near a minute on two cores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import cv2
import pytest
from cv2.typing import MatLike
from uptrack_service.tools.accuracy import Clip, catalogue_ids, manifest_clips, product_outcome

from tests.support.paths import MEDIA

pytestmark = pytest.mark.slow

Frame = MatLike


class Video(NamedTuple):
    """A clip being copied: its frames as they are decoded, its frame rate and its (width, height)."""

    frames: Iterator[Frame]
    fps: float
    size: tuple[int, int]


SQUAT = "squat/squat_side_man_3reps_yuyoujiang.mp4"
HIGH_KNEES = "high_knees/highknees_side_gym_20reps_greendjpt.mp4"
PULL_UP = "pullup/pullup_back_2reps_msoldo.mp4"
CLIPS = (SQUAT, HIGH_KNEES, PULL_UP)
"""Short clips of three kinds: a squat in profile facing one way, alternating knee drives in profile (which leg is
near the camera swaps in the mirror image), a pull-up from behind in a portrait frame."""

CASES = [
    (SQUAT, "mirror"),
    (SQUAT, "low_resolution"),
    (HIGH_KNEES, "mirror"),
    (HIGH_KNEES, "fps_25"),
    (PULL_UP, "mirror"),
    (PULL_UP, "low_resolution"),
]
"""The high knees (a 360p source) are re-timed rather than lowered: at 240p the model puts one knee on the other
leg for a few frames and the clip loses a drive, a limit of the model at that size, not of the counter."""

LOW_RESOLUTION = (2 / 3, 360)
"""The low-resolution copy keeps this share of the lines, and no more than this many (a 360p upload)."""

NEW_FPS = 25.0


def mirrored(video: Video) -> Video:
    return video._replace(frames=(cv2.flip(frame, 1) for frame in video.frames))


def low_resolution(video: Video) -> Video:
    share, most = LOW_RESOLUTION
    scale = min(share, most / min(video.size))
    smaller = (round(video.size[0] * scale / 2) * 2, round(video.size[1] * scale / 2) * 2)
    return Video((cv2.resize(f, smaller, interpolation=cv2.INTER_AREA) for f in video.frames), video.fps, smaller)


def retimed(video: Video) -> Video:
    """`NEW_FPS` frames a second, each the source frame nearest in time (frames dropped or repeated)."""

    def nearest() -> Iterator[Frame]:
        written = 0
        for index, frame in enumerate(video.frames):
            while round(written * video.fps / NEW_FPS) == index:
                yield frame
                written += 1

    return Video(nearest(), NEW_FPS, video.size)


TRANSFORMS: dict[str, Callable[[Video], Video]] = {
    "mirror": mirrored,
    "low_resolution": low_resolution,
    "fps_25": retimed,
}


def decoded(path: Path) -> Video:
    capture = cv2.VideoCapture(str(path))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def frames() -> Iterator[Frame]:
        ok, frame = capture.read()
        while ok:
            yield frame
            ok, frame = capture.read()
        capture.release()

    return Video(frames(), capture.get(cv2.CAP_PROP_FPS), size)


def write_copy(source: Path, transform: Callable[[Video], Video], target: Path) -> Path:
    video = transform(decoded(source))
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter.fourcc(*"mp4v"), video.fps, video.size)
    for frame in video.frames:
        writer.write(frame)
    writer.release()
    return target


@pytest.fixture(scope="module")
def clips() -> dict[str, Clip]:
    if not (MEDIA / "MANIFEST.csv").is_file():
        pytest.skip(f"shared media not found at {MEDIA}")
    return {str(clip.path.relative_to(MEDIA)): clip for clip in manifest_clips(MEDIA)}


@pytest.fixture(scope="module")
def original_counts(clips: dict[str, Clip]) -> dict[str, int]:
    return {name: product_outcome(clips[name], exercise_of(clips[name]), workers=1).count for name in CLIPS}


def exercise_of(clip: Clip) -> str:
    (exercise,) = catalogue_ids(clip.exercise)
    return exercise


def test_each_original_counts_its_true_reps(clips: dict[str, Clip], original_counts: dict[str, int]) -> None:
    """Otherwise an equal count under a transform would prove nothing."""
    assert original_counts == {name: clips[name].true_reps for name in CLIPS}


@pytest.mark.parametrize(("name", "transform"), CASES)
def test_a_transformed_copy_counts_what_the_original_counts(
    name: str, transform: str, clips: dict[str, Clip], original_counts: dict[str, int], tmp_path: Path
) -> None:
    clip = clips[name]
    copy = write_copy(clip.path, TRANSFORMS[transform], tmp_path / f"{clip.path.stem}.{transform}.mp4")
    counted = product_outcome(Clip(copy, clip.exercise, clip.true_reps), exercise_of(clip), workers=1)
    assert counted.count == original_counts[name], f"{name} {transform}: {counted}"


def test_the_copies_are_what_they_claim(clips: dict[str, Clip], tmp_path: Path) -> None:
    """The re-timed copy lasts as long as the original at 25 fps; the low-resolution one has fewer lines."""
    source = clips[HIGH_KNEES].path
    retimed_copy = write_copy(source, retimed, tmp_path / "retimed.mp4")
    lowered = write_copy(clips[SQUAT].path, low_resolution, tmp_path / "lowered.mp4")
    (frames, fps, _), (source_count, source_fps, _) = video_facts(retimed_copy), video_facts(source)
    assert fps == NEW_FPS and math.isclose(frames / fps, source_count / source_fps, abs_tol=2 / NEW_FPS)
    assert video_facts(lowered)[2] == 360 < video_facts(clips[SQUAT].path)[2]


def video_facts(path: Path) -> tuple[float, float, int]:
    """Frame count, frame rate and the number of lines (the short side)."""
    capture = cv2.VideoCapture(str(path))
    facts = (
        capture.get(cv2.CAP_PROP_FRAME_COUNT),
        capture.get(cv2.CAP_PROP_FPS),
        int(min(capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT))),
    )
    capture.release()
    return facts
