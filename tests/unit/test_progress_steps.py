"""`SecondSteps`, the rate limit on progress: one report per whole second of video reached, one at the end, never
a count lower than one already reported, whatever the increments."""

from __future__ import annotations

import random

from uptrack.chunks import SecondSteps, frames_per_second
from uptrack.media import VideoInfo


def _passed(steps: SecondSteps, counts: list[int]) -> list[int]:
    return [count for count in counts if steps.passes(count)]


def test_a_count_growing_frame_by_frame_passes_once_a_second_and_at_the_end() -> None:
    passed = _passed(SecondSteps(30, 313), list(range(1, 314)))
    assert passed == [30, 60, 90, 120, 150, 180, 210, 240, 270, 300, 313]


def test_the_end_on_a_whole_second_passes_once() -> None:
    assert _passed(SecondSteps(30, 90), [*range(1, 91), 90, 95]) == [30, 60, 90]


def test_any_increments_pass_at_most_once_a_second_growing_and_ending_at_the_total() -> None:
    rng = random.Random(7)
    for _ in range(200):
        fps, total = rng.choice([1, 24, 25, 30, 60]), rng.randint(1, 2000)
        counts = [*sorted(rng.sample(range(1, total + 1), k=min(total, rng.randint(1, 300)))), total]
        passed = _passed(SecondSteps(fps, total), counts)
        assert passed == sorted(set(passed))
        assert passed[-1] == total
        assert len(passed) <= total // fps + 1
        seconds = [count // fps for count in passed[:-1]]
        assert seconds == sorted(set(seconds))


def test_a_lower_or_repeated_count_is_held_back() -> None:
    steps = SecondSteps(30, 300)
    assert _passed(steps, [61, 45, 61, 91, 500]) == [61, 91, 500]
    assert not steps.passes(300)  # 500 counted as the total, already reported


def test_a_video_without_a_frame_rate_counts_seconds_at_the_default_rate() -> None:
    info = VideoInfo(codec="h264", fps=0.0, frame_count=100, duration_s=0.0, width=2, height=2, rotation=0)
    assert frames_per_second(info) == 30
    assert frames_per_second(VideoInfo("h264", 29.97, 100, 3.3, 2, 2, 0)) == 30
