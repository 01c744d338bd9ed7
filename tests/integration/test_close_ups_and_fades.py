"""High knees in an edited clip: a close-up of the torso and thighs (feet out of frame) between two full-body shots,
and a cross-dissolve to a logo over the last drives (the shared media's notes give the drive times per shot)."""

from __future__ import annotations

import pytest
from uptrack.chunks import infer_chunk_run, plan_chunks
from uptrack.exercises.analysis import analyze_exercise
from uptrack.exercises.catalogue import get_exercise
from uptrack.media import probe_video
from uptrack.pipeline import model_for, request_stride
from uptrack.pose.engine import EngineSettings, create_estimator
from uptrack.pose.series import PoseSeries
from uptrack.smoothing import smooth_series
from uptrack_service.tools.accuracy import request_for

from tests.support.paths import MEDIA

HIGH_KNEES = MEDIA / "high_knees" / "highknees_3q-side_edited-3-shots-fade_30reps_tomnotchymk.mp4"
CLOSE_UP_MS = (7970, 11050)
"""The close-up between the hard cuts: seven drives (8.3 to 10.75 s), the feet below the frame's edge."""
FADING_DRIVE_MS = (17600, 17900)
"""The last drive, at about 20 % opacity: it peaks at 17.75 s and the figure is lost as it comes back down."""
DISSOLVE_FROM_MS = 16850
"""The cross-dissolve to the logo: three drives (about 16.97, 17.35 and 17.75 s) as the figure fades."""


@pytest.fixture(scope="module")
def peaks_ms() -> list[int]:
    if not HIGH_KNEES.is_file():
        pytest.skip(f"shared media not found: {HIGH_KNEES}")
    request = request_for("high_knees")
    info = probe_video(HIGH_KNEES)
    estimator = create_estimator(EngineSettings(model=model_for(request)))
    stride = request_stride(request, info.fps)
    chunks = infer_chunk_run(HIGH_KNEES, plan_chunks(info.frame_count), estimator, info, stride)
    analysis = analyze_exercise(smooth_series(PoseSeries.concat(list(chunks))), get_exercise("high_knees"), "medium")
    return [rep.peak_ms for rep in analysis.reps]


def test_every_drive_of_a_close_up_with_the_feet_out_of_frame_counts(peaks_ms: list[int]) -> None:
    assert len([p for p in peaks_ms if CLOSE_UP_MS[0] <= p < CLOSE_UP_MS[1]]) == 7


def test_a_drive_seen_coming_down_until_the_figure_fades_out_counts(peaks_ms: list[int]) -> None:
    assert any(FADING_DRIVE_MS[0] <= p <= FADING_DRIVE_MS[1] for p in peaks_ms)


def test_every_drive_of_the_closing_dissolve_counts(peaks_ms: list[int]) -> None:
    """The middle one (about 40 % opacity) is read as a standing leg: both knees are found on it through a whole
    cycle of the other leg, right after a cycle in which it took its turn (`alternation`; 2 of 3 before)."""
    assert len([p for p in peaks_ms if p >= DISSOLVE_FROM_MS]) == 3
