"""Reference movements: invariant features, signatures, the owner-scoped store, matching and messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import CounterMessage, ExerciseSummaryMessage, parse_message
from uptrack.contract.params import AnalysisRequest
from uptrack.pipeline import video_messages
from uptrack.pose.keypoints import COCO_KEYPOINTS
from uptrack.pose.series import PoseSeries
from uptrack.reference.features import FEATURE_NAMES, movement_features
from uptrack.reference.match import (
    PROFILES,
    RepMatch,
    RepScores,
    candidate_spans,
    match_repetitions,
    score_candidate,
)
from uptrack.reference.session import reference_messages
from uptrack.reference.signature import ReferenceMovement, Signature, create_reference
from uptrack.smoothing import smooth_series
from uptrack_service.cli.reference_store import LocalReferenceStore
from uptrack_service.tools.accuracy import load_series

from tests.support.paths import REPO

POSES = REPO / "tests" / "data" / "poses"
SQUAT = "squat_side_man_3reps_yuyoujiang"
SWAPPED = [COCO_KEYPOINTS.index(n.replace("left", "@").replace("right", "left").replace("@", "right"))
           for n in COCO_KEYPOINTS]  # fmt: skip


def cached(stem: str) -> PoseSeries:
    return smooth_series(load_series((POSES / f"{stem}.npz").read_bytes()))


def with_coco(series: PoseSeries, coco: np.ndarray) -> PoseSeries:
    keypoints = np.stack([coco[..., 0], coco[..., 1], np.full_like(coco[..., 0], np.nan), coco[..., 2]], axis=-1)
    return PoseSeries(
        series.model, COCO_KEYPOINTS, series.frame_index, series.timestamp_ms, keypoints.astype(np.float32),
        series.presence, series.width, series.height, series.fps,
    )  # fmt: skip


@pytest.fixture(scope="module")
def squat() -> PoseSeries:
    return cached(SQUAT)


@pytest.fixture(scope="module")
def movement(squat: PoseSeries) -> ReferenceMovement:
    """The second rep of the side-view squat clip (bottoms at ~2.6/5.6/8.4 s per the manifest)."""
    return create_reference(squat, "alice", start_ms=4100, end_ms=7000, name="squat")


def test_features_ignore_mirroring(squat: PoseSeries) -> None:
    coco = squat.coco.copy()
    mirrored = coco[:, SWAPPED].copy()
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    original = movement_features(squat).values
    assert original.shape[1] == len(FEATURE_NAMES)
    np.testing.assert_allclose(movement_features(with_coco(squat, mirrored)).values, original, atol=1e-5)


def test_features_ignore_position_and_size(squat: PoseSeries) -> None:
    coco = squat.coco.copy()
    coco[..., :2] = 0.5 * coco[..., :2] + np.array([0.3, 0.1], dtype=np.float32)
    np.testing.assert_allclose(movement_features(with_coco(squat, coco)).values, movement_features(squat).values,
                               atol=1e-4)  # fmt: skip


def test_a_loose_cut_is_trimmed_to_the_movement(squat: PoseSeries, movement: ReferenceMovement) -> None:
    loose = create_reference(squat, "alice", start_ms=3900, end_ms=7300)
    assert 1200 <= movement.duration_ms <= 2600
    assert abs(loose.duration_ms - movement.duration_ms) <= 270
    assert 4100 <= movement.start_ms < movement.end_ms <= 7000


@pytest.mark.parametrize(("start", "end"), [(7000, 4100), (4100, 4200), (-500, 3000), (4000, 60_000)])
def test_bad_spans_are_invalid_params(squat: PoseSeries, start: int, end: int) -> None:
    with pytest.raises(UptrackError) as caught:
        create_reference(squat, "alice", start_ms=start, end_ms=end)
    assert caught.value.code == ErrorCode.INVALID_PARAMS


def test_a_motionless_clip_is_refused(squat: PoseSeries) -> None:
    still = with_coco(squat, np.repeat(squat.coco[:1], len(squat), axis=0))
    with pytest.raises(UptrackError) as caught:
        create_reference(still, "alice")
    assert caught.value.code in (ErrorCode.ANALYSIS_FAILED, ErrorCode.INVALID_PARAMS)


def test_store_is_scoped_to_the_owner(tmp_path: Path, movement: ReferenceMovement) -> None:
    store = LocalReferenceStore(tmp_path / "references")
    assert store.list_references() == []
    store.put(movement)
    assert store.get(movement.id, "alice") == movement
    assert [m.id for m in store.list_references("alice")] == [movement.id]
    assert store.list_references("bob") == []
    for reference_id, owner in [(movement.id, "bob"), ("nope", "alice"), ("../references/x", "alice")]:
        with pytest.raises(UptrackError) as caught:
            store.get(reference_id, owner)
        assert caught.value.code == ErrorCode.REFERENCE_NOT_FOUND
    with pytest.raises(UptrackError):
        store.delete(movement.id, "bob")
    (tmp_path / "references" / "broken.json").write_text("{not json")
    assert len(store.list_references()) == 1
    store.delete(movement.id, "alice")
    assert store.list_references() == []


def test_signature_round_trips_through_json(movement: ReferenceMovement) -> None:
    again = ReferenceMovement.model_validate_json(movement.model_dump_json())
    np.testing.assert_allclose(again.signature().frames, movement.signature().frames)
    stale = movement.model_copy(update={"version": 0})
    with pytest.raises(UptrackError):
        stale.signature()


def _repeated(signature: Signature, reps: int, stretch: float = 1.0, depth: float = 1.0) -> np.ndarray:
    """Rest, then `reps` copies of the reference (time-stretched, amplitude-scaled), rests between."""
    frames = signature.frames
    rest = frames[:1]
    source = np.arange(len(frames))
    target = np.linspace(0, len(frames) - 1, round(len(frames) * stretch))
    rep = np.stack([np.interp(target, source, frames[:, k]) for k in range(frames.shape[1])], axis=1)
    rep = rest + depth * (rep - rest)
    pause = np.repeat(rest, 10, axis=0)
    return np.concatenate([pause, *[np.concatenate([rep, pause]) for _ in range(reps)]])


def test_exact_copies_are_found_and_score_one(movement: ReferenceMovement) -> None:
    signature = movement.signature()
    values = _repeated(signature, 3)
    spans = candidate_spans(signature, values)
    assert len(spans) == 3
    for first, last in spans:
        scores = score_candidate(signature, values[first : last + 1])
        assert min(vars(scores).values()) > 0.97


def test_slow_and_shallow_reps_lose_timing_and_amplitude(movement: ReferenceMovement) -> None:
    signature = movement.signature()
    slow = score_candidate(signature, _repeated(signature, 1, stretch=2.0)[10:-10])
    assert 0.4 < slow.timing < 0.6 and slow.ncc > 0.95
    shallow = score_candidate(signature, _repeated(signature, 1, depth=0.5)[10:-10])
    assert 0.4 < shallow.movement < 0.6 and shallow.ncc > 0.95 and shallow.pose < 0.9


def test_kali_analysis_keeps_what_kali_drops() -> None:
    scores = RepScores(ncc=0.6, dtw=0.5, dist=0.4, timing=0.7, pose=0.4, movement=0.5)
    analysis, strict = PROFILES["kali-analysis"], PROFILES["kali"]
    overall = scores.overall(strict)
    assert scores.overall(analysis) == overall
    assert analysis.min_overall <= overall < strict.min_overall


def test_reference_score_carries_both_families() -> None:
    match = RepMatch(0, 2000, 30, RepScores(0.9, 0.8, 0.7, 0.95, 0.85, 0.75), 0.84, True)
    wire = match.reference_score().model_dump(by_alias=True)
    assert wire["grade"] == "B" and wire["overallScore"] == 0.84
    for key in ("poseScore", "timingScore", "movementScore", "nccScore", "dtwScore", "distScore"):
        assert 0.0 <= wire[key] <= 1.0


def test_messages_count_reps_and_close_with_the_summary(squat: PoseSeries, movement: ReferenceMovement) -> None:
    messages = reference_messages(squat, AnalysisRequest(reference=movement.id), movement)
    for message in messages:
        parse_message(message.model_dump(by_alias=True, exclude_none=True))
    counters = [m for m in messages if isinstance(m, CounterMessage)]
    assert [c.current_count for c in counters[:-1]] == [1, 2, 3]
    assert all(c.reference_score is not None and c.reference_score.grade == "A" for c in counters)
    assert counters[-1].final and counters[-1].current_count == 3
    summary = messages[-1]
    assert isinstance(summary, ExerciseSummaryMessage)
    assert summary.counter == 3 and summary.reference == movement.id and len(summary.history) == 3
    assert summary.avg_similarity is not None and summary.avg_similarity > 0.9
    assert summary.avg_rep_score is not None and summary.avg_rep_score > 90
    assert summary.total_frames_compared is not None and summary.total_frames_compared > 60


def test_min_grade_drops_the_reps_below_it(movement: ReferenceMovement) -> None:
    occluded = cached("squat_barbell_back_occluded_3reps_kavyadalmia")
    candidates = match_repetitions(movement.signature(), occluded, "kali-analysis")
    reps = [c for c in candidates if c.is_rep]
    good = [c for c in reps if c.grade in ("A", "B", "C")]
    assert len(good) < len(reps)
    messages = reference_messages(occluded, AnalysisRequest(reference=movement.id, min_grade="C"), movement)
    counters = [m for m in messages if isinstance(m, CounterMessage) and not m.final]
    assert [c.current_count for c in counters] == list(range(1, len(good) + 1))
    assert [c.timestamp_ms for c in counters] == [c.end_ms for c in good]
    summary = messages[-1]
    assert isinstance(summary, ExerciseSummaryMessage) and summary.counter == len(good) == len(summary.history)


def test_pipeline_resolves_references_per_owner(tmp_path: Path, squat: PoseSeries, movement: ReferenceMovement) -> None:
    store = LocalReferenceStore(tmp_path)
    store.put(movement)
    request = AnalysisRequest(reference=movement.id)
    types = [m.type for m in video_messages(squat, request, store, "alice")]  # type: ignore[attr-defined]
    assert types[-3:] == ["counter", "exercise_summary", "initialization"]
    for store_or_none, owner in [(store, "bob"), (None, "alice"), (store, None)]:
        with pytest.raises(UptrackError) as caught:
            video_messages(squat, request, store_or_none, owner)
        assert caught.value.code == ErrorCode.REFERENCE_NOT_FOUND
