"""analyze_exercise on synthetic stick figures: counting rules, grades, holds and placement, with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import ANKLES, get_exercise
from uptrack.pose.keypoints import COCO_INDEX

from tests.unit.exercises.stick_figures import forearm_plank, nobody, series, squat_knees, standing


def squat_series(depths: list[float], **timing: float) -> list[np.ndarray]:
    return [standing(knee) for knee in squat_knees(depths, **timing)]


def test_deep_squats_count_and_grade_well() -> None:
    analysis = analyze_exercise(series(squat_series([90, 85, 95])), get_exercise("squat"), "medium")
    assert len(analysis.reps) == 3
    assert analysis.view == "side"
    assert all(rep.score >= 80 for rep in analysis.reps)
    assert [rep.start_ms < rep.peak_ms < rep.end_ms for rep in analysis.reps] == [True] * 3


def test_shallow_squats_are_attempts_graded_low_with_a_depth_cue() -> None:
    analysis = analyze_exercise(series(squat_series([120, 120])), get_exercise("squat"), "medium")
    assert analysis.reps == ()
    assert [rep.reason for rep in analysis.candidates] == ["shallow", "shallow"]
    assert all(rep.score < 70 and rep.cues[0].startswith("Go lower") for rep in analysis.candidates)


def test_difficulty_moves_the_depth_bar() -> None:
    def counts(depth: float) -> dict[str, int]:
        clip = series(squat_series([depth, depth]))
        return {d: len(analyze_exercise(clip, get_exercise("squat"), d).reps) for d in ("easy", "medium", "hard")}

    assert counts(105) == {"easy": 2, "medium": 0, "hard": 0}
    assert counts(75) == {"easy": 2, "medium": 2, "hard": 2}


def test_a_half_rep_among_full_ones_does_not_count() -> None:
    analysis = analyze_exercise(series(squat_series([80, 80, 105, 80])), get_exercise("squat"), "easy")
    assert [rep.reason for rep in analysis.candidates] == ["counted", "counted", "shallow", "counted"]
    shallow = analysis.candidates[2]
    assert shallow.score < min(rep.score for rep in analysis.reps)


def test_a_bounce_faster_than_the_minimum_rep_time_is_not_a_rep() -> None:
    analysis = analyze_exercise(series(squat_series([85], rep_s=0.8)), get_exercise("squat"), "medium")
    assert [rep.reason for rep in analysis.candidates] == ["too_fast"]


def test_walking_in_is_placement_not_reps() -> None:
    frames = [nobody()] * 45 + squat_series([90, 90])
    analysis = analyze_exercise(series(frames), get_exercise("squat"), "medium")
    assert len(analysis.reps) == 2
    first, *_, last = analysis.posture
    assert not first.ready and first.missing
    assert last.ready and last.timestamp_ms < analysis.reps[0].start_ms


def test_hidden_ankles_block_counting_and_are_reported_missing() -> None:
    frames = squat_series([90, 90])
    for frame in frames:
        frame[[COCO_INDEX["left_ankle"], COCO_INDEX["right_ankle"]], 2] = 0.05
    analysis = analyze_exercise(series(frames), get_exercise("squat"), "medium")
    assert analysis.reps == ()
    assert analysis.posture[0].missing == (ANKLES,)


def test_body_hidden_on_the_way_up_still_counts() -> None:
    knees = squat_knees([85, 85, 85], rep_s=3.0)
    frames = [standing(k) for k in knees]
    legs = [COCO_INDEX[f"{s}_{j}"] for s in ("left", "right") for j in ("hip", "knee", "ankle")]
    for i, knee in enumerate(knees):
        if knee < 130 and knees[i - 1] < knee:  # a barbell plate hides the legs on the way up, ~0.8 s per rep
            frames[i][legs, 2] = 0.0
    analysis = analyze_exercise(series(frames), get_exercise("squat"), "medium")
    assert len(analysis.reps) == 3


def test_portrait_and_landscape_frames_count_alike() -> None:
    knees = squat_knees([90, 95])
    portrait = series([standing(k, width=720, height=1280) for k in knees], width=720, height=1280)
    landscape = series([standing(k, width=1280, height=720) for k in knees], width=1280, height=720)
    for clip in (portrait, landscape):
        assert len(analyze_exercise(clip, get_exercise("squat"), "medium").reps) == 2


def test_a_plank_is_not_a_squat_and_not_push_ups() -> None:
    clip = series([forearm_plank(sag_px=10 * np.sin(i / 9)) for i in range(300)])
    for exercise in ("squat", "push_up"):
        assert analyze_exercise(clip, get_exercise(exercise), "medium").reps == ()


def test_plank_hold_counts_whole_seconds_in_posture() -> None:
    frames = [standing(175)] * 30 + [forearm_plank()] * 165 + [forearm_plank(sag_px=140)] * 60
    analysis = analyze_exercise(series(frames), get_exercise("plank"), "medium")
    assert analysis.hold_seconds == 5
    assert len(analysis.hold_ticks_ms) == 5 and list(analysis.hold_ticks_ms) == sorted(analysis.hold_ticks_ms)
    assert analysis.start_ms is not None and 900 <= analysis.start_ms <= 1400
    assert analysis.hold_score is not None and analysis.hold_score >= 80


def test_sagging_plank_is_not_held() -> None:
    analysis = analyze_exercise(series([forearm_plank(sag_px=140)] * 150), get_exercise("plank"), "medium")
    assert analysis.hold_seconds == 0


@pytest.mark.parametrize("exercise", ["squat", "plank"])
def test_empty_series_gives_an_empty_analysis(exercise: str) -> None:
    analysis = analyze_exercise(series([]), get_exercise(exercise), "medium")
    assert analysis.reps == () and analysis.hold_seconds == 0 and analysis.start_ms is None
