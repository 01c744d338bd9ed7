"""`make bench` report lines: the pipeline compared with the plain loop, and the exercise each clip is run as."""

from __future__ import annotations

from pathlib import Path

from uptrack.exercises.catalogue import exercise_ids
from uptrack_service.tools.bench import BenchRow, comparison_line, shared_clips


def _row(mode: str, wall_s: float, reps: int | None) -> BenchRow:
    return BenchRow("clip.mp4", "movenet_lightning", mode, "1280x720", 900, 30.0, wall_s, 0.0, {}, 100.0, reps)


def test_comparison_line_gives_the_speed_up_and_flags_a_changed_count() -> None:
    plain = _row("plain", 9.0, 19)
    assert comparison_line(plain, _row("uptrack x2", 3.0, 19)) == (
        "-> uptrack x2 is 3.00x the plain loop; reps at full frame rate 19, in the pipeline 19 (same count)"
    )
    assert "COUNT DIFFERS" in comparison_line(plain, _row("uptrack x2", 3.0, 18))
    assert comparison_line(_row("plain", 9.0, None), _row("uptrack x2", 4.5, None)).endswith("2.00x the plain loop")


def test_clips_run_as_their_manifest_exercise(media_dir: Path) -> None:
    clips = dict(shared_clips(media_dir, only_720p=True))
    assert clips, "no 720p clip in the manifest"
    assert all(path.suffix == ".mp4" and path.is_file() for path in clips)
    assert set(clips.values()) <= set(exercise_ids()), "every 720p clip runs as a catalogue exercise"
