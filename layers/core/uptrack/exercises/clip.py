"""Per-frame facts about one clip for one exercise: cleaned signals, camera view, visibility, posture, readiness.

Reps and holds are both read off these; so are the placement (`posture`) states sent before the exercise starts.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.exercises.catalogue import ExerciseDefinition, KeypointGroup, Posture
from uptrack.exercises.filters import clean, frames_for, running_median
from uptrack.exercises.results import PostureState
from uptrack.exercises.signals import compute_signals
from uptrack.pose.body import MIN_SCORE, Body, measure_body
from uptrack.pose.series import PoseSeries

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

UPRIGHT_MAX_INCLINE: Final = 45.0
"""Torso within this many degrees of vertical counts as upright; beyond it, as lying or in a plank."""

LYING_MAX_HIP_HEIGHT: Final = 0.45
"""Hips less than this many leg lengths above the ankles: the legs lie along the floor (or point at the camera)."""

HANDS_ON_FLOOR: Final = 0.6
"""Wrists this many flank lengths below the hips: the hands support the body (push-up, plank), even head-on."""

FRONT_MIN_SHOULDER_WIDTH: Final = 0.3
"""Shoulder width over flank length above which the camera faces the body (profile views measure below 0.2)."""

HANDS_OFF_BAR: Final = 0.5
"""Wrists more than this many upper arms below the shoulders: the hands are no longer on a bar overhead (at the
top of a pull-up the shoulders come up to about the hands' height; hanging, the hands are well above them)."""

LETTING_GO_S: Final = 0.3
"""How long hands take to fall from a bar overhead to below the shoulders (about half a metre: 0.32 s falling
freely). Frames this long before the hands show off the bar are already the drop, not the rep."""

STEADY_S: Final = 0.3
"""Readiness and placement states must last about this long: shorter flickers are detection noise."""


@dataclass(frozen=True)
class ClipFrames:
    """Per-frame measurements of one clip for one exercise."""

    times_s: Floats
    signals: Mapping[str, Floats]
    facing: Bools
    """Camera faces the body (front or rear) rather than seeing it in profile."""
    behind: Bools
    """Camera faces the body from behind: the person's left shoulder on the image's left."""
    missing: tuple[Bools, ...]
    """Per required keypoint group: where it was not seen."""
    visible: Bools
    engaged: Bools
    """On the apparatus: for a hanging exercise, hands still on the bar (letting go ends any rep under way)."""
    in_posture: Bools
    ready: Bools
    """Required keypoints seen and body in the exercise's posture, held steadily."""
    shots: tuple[slice, ...]
    """The frames of each camera shot (one slice for an unedited clip): a rep never spans two."""

    @property
    def view(self) -> str:
        """The clip's main camera view."""
        return "front" if len(self.facing) and float(np.mean(self.facing)) > 0.5 else "side"

    @property
    def duration_ms(self) -> int:
        return to_ms(self.times_s[-1]) if len(self.times_s) else 0


def to_ms(seconds: float) -> int:
    """Whole milliseconds, truncated like the pipeline's per-frame messages so a rep's counter and its frame's
    keypoints carry the same `timestampMs`."""
    return max(int(seconds * 1000.0 + 1e-6), 0)


def measure_clip(series: PoseSeries, exercise: ExerciseDefinition) -> ClipFrames:
    """Signals the exercise reads (cleaned), and the per-frame view, visibility, posture and readiness, measured
    shot by shot: another camera sees other segment lengths and another view, and a running median or the
    steadiness vote must not carry one shot's frames into the next."""
    shots = series.shots()
    parts = [_measure_shot(series.select(_mask(shot, len(series))), exercise) for shot in shots]
    return ClipFrames(
        times_s=np.concatenate([p.times_s for p in parts]),
        signals={name: np.concatenate([p.signals[name] for p in parts]) for name in parts[0].signals},
        facing=np.concatenate([p.facing for p in parts]),
        behind=np.concatenate([p.behind for p in parts]),
        missing=tuple(np.concatenate(group) for group in zip(*(p.missing for p in parts), strict=True)),
        visible=np.concatenate([p.visible for p in parts]),
        engaged=np.concatenate([p.engaged for p in parts]),
        in_posture=np.concatenate([p.in_posture for p in parts]),
        ready=np.concatenate([p.ready for p in parts]),
        shots=tuple(shots),
    )


def _mask(shot: slice, length: int) -> Bools:
    keep = np.zeros(length, dtype=bool)
    keep[shot] = True
    return keep


def _measure_shot(series: PoseSeries, exercise: ExerciseDefinition) -> ClipFrames:
    """`measure_clip` on the frames of one camera shot."""
    times_s = series.timestamp_ms.astype(np.float64) / 1000.0
    body = measure_body(series.coco, series.width, series.height)
    signals = {name: clean(values, times_s) for name, values in compute_signals(body, exercise.signal_names()).items()}
    missing = _missing(body, exercise.required_keypoints)
    visible: Bools = ~np.any(missing, axis=0) if missing else np.ones(len(times_s), dtype=bool)
    in_posture = _in_posture(signals, exercise.posture)
    facing = running_median(signals["shoulder_width"], frames_for(1.0, times_s)) > FRONT_MIN_SHOULDER_WIDTH
    return ClipFrames(
        times_s=times_s,
        signals=signals,
        facing=facing,
        behind=facing & (running_median(signals["shoulder_turn"], frames_for(1.0, times_s)) < 0),
        missing=missing,
        visible=visible,
        engaged=_on_bar(in_posture, times_s) if exercise.posture == "hanging" else np.ones(len(times_s), dtype=bool),
        in_posture=in_posture,
        ready=steady(visible & in_posture, times_s),
        shots=(slice(0, len(times_s)),),
    )


def steady(flags: Bools, times_s: Floats, seconds: float = STEADY_S) -> Bools:
    """Majority vote over about `seconds`: removes flickers shorter than half of it."""
    result: Bools = running_median(flags.astype(np.float64), frames_for(seconds, times_s)) > 0.5
    return result


def _on_bar(hanging: Bools, times_s: Floats) -> Bools:
    """Frames with the hands on the bar: hanging, and not within `LETTING_GO_S` before the hands show off it."""
    on_bar = hanging.copy()
    for release in np.flatnonzero(np.diff(hanging.astype(np.int8)) < 0) + 1:
        on_bar[(times_s >= times_s[release] - LETTING_GO_S) & (times_s < times_s[release])] = False
    return on_bar


def _missing(body: Body, required: tuple[KeypointGroup, ...]) -> tuple[Bools, ...]:
    """Per required group (either side will do), the frames where none of its keypoints was seen."""
    groups = []
    for group in required:
        seen = np.zeros(len(body.scores), dtype=bool)
        for name in group.names:
            seen |= body.score(name) >= MIN_SCORE
        groups.append(~seen)
    return tuple(groups)


def _in_posture(signals: Mapping[str, Floats], posture: Posture) -> Bools:
    """Body orientation check.

    On the floor shows as a trunk tilted past 45°, hips close to the ankles' height (legs along the floor, or
    pointing at the camera), or hands far below the hips (supporting the body): the last two still work head-on,
    where the trunk looks upright in the image. Upright means a trunk within 45° of vertical and hands not on the
    floor; sitting counts as upright (seated presses and curls). Hanging is upright with the hands still above the
    shoulders (`HANDS_OFF_BAR`). Unseen keypoints never block an upright exercise:
    upper-body framing is normal for curls.
    """
    incline = signals["torso_incline"]
    if posture == "any":
        return np.ones(len(incline), dtype=bool)
    tilted: Bools = incline > UPRIGHT_MAX_INCLINE
    on_hands: Bools = signals["wrist_below_hip"] > HANDS_ON_FLOOR
    if posture == "upright":
        return ~(tilted | on_hands)
    if posture == "hanging":
        off_bar: Bools = signals["shoulder_over_wrist"] > HANDS_OFF_BAR
        return ~(tilted | off_bar)
    on_floor: Bools = tilted | on_hands | (signals["hip_height"] < LYING_MAX_HIP_HEIGHT)
    return on_floor


def posture_states(clip: ClipFrames, exercise: ExerciseDefinition, start_ms: int | None) -> tuple[PostureState, ...]:
    """Placement changes from the first frame until the exercise starts; a state shorter than `STEADY_S` is
    skipped so a body coming into view yields one message, not one per keypoint."""
    missing_now = [steady(m, clip.times_s) for m in clip.missing]
    posture_now = steady(clip.in_posture, clip.times_s)
    changes: list[PostureState] = []
    for i, t in enumerate(clip.times_s):
        if start_ms is not None and to_ms(t) >= start_ms:
            break
        absent = tuple(g for g, m in zip(exercise.required_keypoints, missing_now, strict=True) if m[i])
        state = PostureState(to_ms(t), not absent and bool(posture_now[i]), absent, bool(posture_now[i]))
        if not changes or _placement(state) != _placement(changes[-1]):
            changes.append(state)
    lasting = [s for s, after in itertools.pairwise(changes) if after.timestamp_ms - s.timestamp_ms >= STEADY_S * 1000]
    states: list[PostureState] = []
    for state in [*lasting, *changes[-1:]]:
        if not states or _placement(state) != _placement(states[-1]):
            states.append(state)
    if states:  # the first placement we trust stands for the clip's opening frames too
        states[0] = replace(states[0], timestamp_ms=changes[0].timestamp_ms)
    return tuple(states)


def _placement(state: PostureState) -> tuple[tuple[KeypointGroup, ...], bool]:
    return state.missing, state.in_posture
