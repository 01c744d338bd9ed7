"""Find the repetitions of a reference movement in an upload and score each one (contract §3.7, §5.2).

Finding: subsequence DTW (dtaidistance, C implementation) of the reference's features against the whole
upload gives, for every moment, the cost of the best alignment of one full repetition ending there. Local
minima of that cost, taken best first and kept when they do not overlap an earlier pick, are the candidate
repetitions; each is cut to where its warping path leaves the reference's first frame and reaches its last.

Scoring (all 0..1, both families of the contract):

* `nccScore` (shape): normalised cross-correlation per channel after resampling to the reference's length;
* `dtwScore` (alignment): DTW distance of the mean-centred trajectories, as a share of the reference's motion;
* `distScore` (stability): the same distance without warping, so uneven tempo inside the rep lowers it;
* `timingScore`: the shorter of the two durations over the longer;
* `poseScore`: DTW distance of the absolute features (where the body is, not only how it moves);
* `movementScore`: per-channel range of motion, the smaller over the larger.

`overallScore` blends them with the weights of the `scoring_profile`; its letter follows §5.1 on a 0–100 scale.
A candidate whose overall score is below the profile's floor is not a repetition of the reference at all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
from dtaidistance import dtw_ndim
from dtaidistance.subsequence.dtw import subsequence_alignment

from uptrack.contract.grades import Grade, grade_for
from uptrack.contract.messages import ReferenceScore
from uptrack.contract.params import ScoringProfile
from uptrack.pose.body import Floats
from uptrack.pose.series import PoseSeries
from uptrack.reference.features import movement_features
from uptrack.reference.signature import Signature

DTW_PENALTY: Final = 0.1
"""Cost of a non-diagonal DTW step (in reference-amplitude units): keeps rests from being stretched into reps."""

LENGTH_RANGE: Final = (0.4, 2.5)
"""A candidate lasts between these multiples of the reference: faster or slower reps still match."""

MAX_OVERLAP: Final = 0.35
"""Share of the shorter of two candidates they may overlap (back-to-back reps share their rest frames)."""

SHAPE_FLOOR: Final = 0.25
"""A channel that moves less than this share of the reference's amplitude cannot reach full correlation."""

ALIGN_TOLERANCE: Final = 0.25
"""RMS distance (share of the reference's motion) at which the alignment and stability scores are 1/e."""

POSE_TOLERANCE: Final = 0.35
"""The same for absolute poses, looser: camera height and body shape shift them even for a perfect rep."""


@dataclass(frozen=True)
class ProfileRule:
    """How a `scoring_profile` blends the sub-scores and how similar a candidate must be to be a rep."""

    weights: Mapping[str, float]
    min_overall: float


_SHAPE_WEIGHTS: Final = {"ncc": 0.4, "dtw": 0.35, "timing": 0.15, "dist": 0.1}
"""`kali`: the four components the newer docs name (shape, alignment, timing, stability)."""

PROFILES: Final[Mapping[ScoringProfile, ProfileRule]] = {
    "default": ProfileRule({"ncc": 0.3, "dtw": 0.25, "pose": 0.15, "movement": 0.15, "timing": 0.1, "dist": 0.05}, 0.6),
    "kali": ProfileRule(_SHAPE_WEIGHTS, 0.6),
    "kali-analysis": ProfileRule(_SHAPE_WEIGHTS, 0.5),
}
"""`default` blends both families; `kali-analysis` scores like `kali` but keeps weaker matches (another camera
angle) as low-graded reps instead of dropping them."""


@dataclass(frozen=True)
class RepScores:
    """Sub-scores of one candidate, each 0..1."""

    ncc: float
    dtw: float
    dist: float
    timing: float
    pose: float
    movement: float

    def overall(self, rule: ProfileRule) -> float:
        values = {"ncc": self.ncc, "dtw": self.dtw, "dist": self.dist, "timing": self.timing, "pose": self.pose,
                  "movement": self.movement}  # fmt: skip
        return float(np.clip(sum(weight * values[name] for name, weight in rule.weights.items()), 0.0, 1.0))


@dataclass(frozen=True)
class RepMatch:
    """One candidate repetition in video time, scored against the reference."""

    start_ms: int
    end_ms: int
    frames: int
    """Analysed video frames inside the candidate: what was compared with the reference."""
    scores: RepScores
    overall: float
    is_rep: bool
    """Similar enough, for the profile, to be a repetition of the reference (minGrade is applied later)."""

    @property
    def grade(self) -> Grade:
        return grade_for(100.0 * self.overall)

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def reference_score(self) -> ReferenceScore:
        s = self.scores
        return ReferenceScore(
            overall_score=round(self.overall, 3),
            grade=self.grade,
            pose_score=round(s.pose, 3),
            timing_score=round(s.timing, 3),
            movement_score=round(s.movement, 3),
            ncc_score=round(s.ncc, 3),
            dtw_score=round(s.dtw, 3),
            dist_score=round(s.dist, 3),
        )


def match_repetitions(signature: Signature, series: PoseSeries, profile: ScoringProfile) -> list[RepMatch]:
    """Every candidate repetition of the reference in a smoothed series, in time order, scored for `profile`."""
    track = movement_features(series, signature.hz)
    rule = PROFILES[profile]
    stamps = series.timestamp_ms.astype(np.float64)
    matches = []
    for first, last in candidate_spans(signature, track.values):
        scores = score_candidate(signature, track.values[first : last + 1])
        start, end = float(track.times_ms[first]), float(track.times_ms[last])
        overall = scores.overall(rule)
        frames = int(np.count_nonzero((stamps >= start) & (stamps <= end)))
        matches.append(RepMatch(round(start), round(end), frames, scores, overall, overall >= rule.min_overall))
    return matches


def candidate_spans(signature: Signature, values: Floats) -> list[tuple[int, int]]:
    """[first, last] feature indices of candidate repetitions, best matches first picked, returned in time order."""
    length = len(signature.frames)
    if len(values) < LENGTH_RANGE[0] * length:
        return []
    scale = signature.scale
    alignment = subsequence_alignment(
        np.ascontiguousarray(signature.frames * scale), np.ascontiguousarray(values * scale), DTW_PENALTY, True
    )
    cost = np.asarray(alignment.matching_function(), dtype=np.float64)
    spans: list[tuple[int, int]] = []
    for end in _local_minima(cost, max(1, length // 3)):
        path = np.asarray(alignment.get_match(int(end)).path)
        first = int(path[path[:, 0] == 0, 1].max())
        last = int(path[path[:, 0] == length - 1, 1].min())
        if _plausible(first, last, length) and not any(_overlaps((first, last), span) for span in spans):
            spans.append((first, last))
    return sorted(spans)


def _local_minima(cost: Floats, radius: int) -> list[int]:
    """Indices where the cost is the lowest within ±radius, cheapest first."""
    padded = np.pad(cost, radius, constant_values=np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * radius + 1)
    minima = np.flatnonzero(np.isfinite(cost) & (cost <= windows.min(axis=1)))
    return [int(i) for i in minima[np.argsort(cost[minima], kind="stable")]]


def _plausible(first: int, last: int, length: int) -> bool:
    size = last - first + 1
    return LENGTH_RANGE[0] * length <= size <= LENGTH_RANGE[1] * length


def _overlaps(span: tuple[int, int], other: tuple[int, int]) -> bool:
    shared = min(span[1], other[1]) - max(span[0], other[0]) + 1
    shorter = min(span[1] - span[0], other[1] - other[0]) + 1
    return shared > MAX_OVERLAP * shorter


def score_candidate(signature: Signature, candidate: Floats) -> RepScores:
    """All sub-scores of one candidate's features against the reference."""
    reference, scale = signature.frames, signature.scale
    resampled = _resample(candidate, len(reference))
    ref_motion, cand_motion = reference - reference.mean(axis=0), candidate - candidate.mean(axis=0)
    linear_gap = (ref_motion - (resampled - resampled.mean(axis=0))) * scale
    return RepScores(
        ncc=_shape(ref_motion, resampled - resampled.mean(axis=0), signature.weights),
        dtw=_closeness(_dtw_rms(ref_motion * scale, cand_motion * scale), ALIGN_TOLERANCE),
        dist=_closeness(float(np.sqrt((linear_gap**2).sum(axis=1).mean())), ALIGN_TOLERANCE),
        timing=(min(len(candidate), len(reference)) - 1) / max(max(len(candidate), len(reference)) - 1, 1),
        pose=_closeness(_dtw_rms(reference * scale, candidate * scale), POSE_TOLERANCE),
        movement=_amplitude(reference, candidate, signature.weights),
    )


def _resample(values: Floats, length: int) -> Floats:
    """Linear time normalisation of (n, K) features to `length` frames."""
    source = np.arange(len(values), dtype=np.float64)
    target = np.linspace(0.0, len(values) - 1.0, length)
    return np.stack([np.interp(target, source, values[:, k]) for k in range(values.shape[1])], axis=1)


def _shape(reference: Floats, candidate: Floats, weights: Floats) -> float:
    """Weighted per-channel NCC of mean-centred sequences; a near-still candidate channel cannot correlate."""
    ref_energy = np.sqrt((reference**2).sum(axis=0))
    cand_energy = np.maximum(np.sqrt((candidate**2).sum(axis=0)), SHAPE_FLOOR * ref_energy)
    correlation = (reference * candidate).sum(axis=0) / np.maximum(ref_energy * cand_energy, 1e-12)
    return float(np.clip((weights * correlation).sum(), 0.0, 1.0))


def _dtw_rms(reference: Floats, candidate: Floats) -> float:
    """DTW distance as a per-frame RMS, so it does not grow with the rep's length."""
    distance = float(dtw_ndim.distance_fast(np.ascontiguousarray(reference), np.ascontiguousarray(candidate)))
    return distance / math.sqrt(max(len(reference), len(candidate)))


def _closeness(distance: float, tolerance: float) -> float:
    """A distance mapped to 0..1: 1 when identical, 1/e at `tolerance`, falling fast beyond."""
    return float(np.exp(-((distance / tolerance) ** 2)))


def _amplitude(reference: Floats, candidate: Floats, weights: Floats) -> float:
    """Weighted ratio of range of motion per channel (smaller over larger): too shallow and too wide both lose."""
    ref_span = reference.max(axis=0) - reference.min(axis=0)
    cand_span = candidate.max(axis=0) - candidate.min(axis=0)
    ratio = np.minimum(ref_span, cand_span) / np.maximum(np.maximum(ref_span, cand_span), 1e-9)
    return float(np.clip((weights * ratio).sum(), 0.0, 1.0))
