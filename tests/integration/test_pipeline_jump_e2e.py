"""A jump clip end to end through the moto stack: the Lambdas infer every frame (jumps are timed at the full frame
rate), the aggregator measures the jump, and the subscriber receives exactly what `uptrack analyze` prints; the
jump's result and summary reach EventBridge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from uptrack.contract.messages import dump_message
from uptrack.contract.params import parse_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.media import probe_video
from uptrack.pipeline import LocalRun, analyze_path
from uptrack.pose.engine import EngineSettings
from uptrack_service.local.stack import LocalStack
from uptrack_service.pipeline.validation import chunk_frames_for
from uptrack_service.settings import ServiceSettings

from tests.integration.subscriber import Subscriber
from tests.integration.test_pipeline_e2e import _bare, _post
from tests.support.paths import MEDIA, REPO
from tests.support.stack_client import put

pytestmark = pytest.mark.slow

CLIP = MEDIA / "jump" / "vertical_jump_front_barefoot_black-shirt_1jumps_rmchi.mp4"
QUERY = "exercise=jump_analysis&userHeightCm=178&devicePitchDeg=0"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(REPO, max_concurrency=2) as running:
        yield running


@pytest.mark.skipif(not CLIP.is_file(), reason="shared jump clip not present")
def test_a_jump_upload_streams_the_same_jump_messages_as_uptrack_analyze(stack: LocalStack) -> None:
    token = stack.create_token()
    status, created = _post(
        f"{stack.http_url}/uploads?token={token}&{QUERY}",
        {"contentType": "video/mp4", "contentLength": CLIP.stat().st_size},
    )
    assert status == 201, created
    subscriber = Subscriber(f"{created['websocketUrl']}&token={token}").start()
    assert put(created["upload"], CLIP.read_bytes()) == 200
    received = subscriber.wait(300)

    request = parse_query(
        f"token={token}&{QUERY}", exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids()
    )
    chunk_frames = chunk_frames_for(probe_video(CLIP), ServiceSettings.from_env())
    expected = [
        dump_message(m)
        for m in analyze_path(
            CLIP, request, LocalRun(settings=EngineSettings(models_dir=REPO / "models"), chunk_frames=chunk_frames)
        )
    ]
    assert _bare(received) == _bare(expected)
    types = [m["type"] for m in received]
    assert {"jump_calibration", "jump_started", "jump_height", "jump_result", "jump_summary"} <= set(types)

    events = stack.published_events(wait_s=2.0)
    assert {"jump_result", "jump_summary"} <= {e["detail-type"] for e in events}
