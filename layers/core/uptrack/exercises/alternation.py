"""Strict alternation: the drive of a hidden or mis-seen limb between two drives of the limb that is seen.

Seen from the side, the far leg of a mountain climber or of high knees can stay behind the near leg for a whole set.
The model then finds it in too few frames for its own track to count anything, and only the near leg's drives
would count. In an alternating exercise every full cycle of one limb (two of its drives, one cycle apart) holds
exactly one drive of the other, so that drive is counted there. It is graded like the seen drives on either side of
it, because nothing of its own was measured. The seen limb's cycles must be regular (a pause or a stop is no cycle),
and the other limb must really be missing there: hidden (where it is seen, its own track counts what it does, deep
or shallow), or mis-seen. A picture the model reads badly for a moment (a figure dissolving into a logo)
can put both knees on the standing leg: the other limb is then "seen" at rest through one cycle while it took its
turn in the cycle next to it. A limb that really stood through the other's cycles takes no turn next to them either
(a one-leg drill), and one that moved at all left its start position, which its own track judges.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Final

import numpy as np
import numpy.typing as npt

from uptrack.contract.grades import grade_for
from uptrack.exercises.clip import to_ms
from uptrack.exercises.counting import DEFAULT_THRESHOLDS
from uptrack.exercises.results import RepResult

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

HIDDEN_BELOW: Final = 0.5
"""A limb whose signal shows in less than this share of the frames of the other limb's cycle is hidden there."""

REGULAR_CYCLE: Final = (0.75, 1.33)
"""Two drives of the seen limb are one full cycle apart when their distance is within these shares of the limb's
median cycle: a longer one is a pause, a shorter one is the hidden limb's drive that the model gave to the seen
limb's label."""

MIN_CYCLES: Final = 2
"""Cycles of the seen limb needed before its median cycle is trusted: three drives in a row."""


def hidden_limb_drives(
    counted: Sequence[Sequence[RepResult]],
    progress: Sequence[Floats],
    seen: Sequence[Bools],
    times_s: Floats,
) -> list[RepResult]:
    """The drives of a hidden or mis-seen limb, one in each regular cycle of the other limb that lacks one.
    `counted`, `progress` and `seen` hold one entry per limb: the limb's counted drives in time order, its counting
    progress, and the frames where its signal was measured."""
    frame_ms = np.array([to_ms(t) for t in times_s])
    inferred: list[RepResult] = []
    for limb, drives in enumerate(counted):
        other = 1 - limb
        cycles = [b.peak_ms - a.peak_ms for a, b in pairwise(drives)]
        if len(cycles) < MIN_CYCLES:
            continue
        typical = float(np.median(cycles))
        regular = [REGULAR_CYCLE[0] * typical <= cycle <= REGULAR_CYCLE[1] * typical for cycle in cycles]
        turns = [regular[n] and _drive_between(counted[other], a, b) for n, (a, b) in enumerate(pairwise(drives))]
        for n, (a, b) in enumerate(pairwise(drives)):
            if not regular[n] or turns[n]:
                continue
            if _hidden(seen[other], frame_ms, a, b) or _missed(progress[other], frame_ms, a, b, turns, n):
                inferred.append(_drive_between_two(a, b))
    return inferred


def _missed(
    progress: Floats, frame_ms: npt.NDArray[np.int64], a: RepResult, b: RepResult, turns: list[bool], cycle: int
) -> bool:
    """True when the other limb never left its start position (`DEFAULT_THRESHOLDS.rest`) from `a`'s peak to
    `b`'s while it took its turn in a regular cycle next to it (`turns`: per cycle of this limb, whether the other
    limb drove in it)."""
    beside = [turns[n] for n in (cycle - 1, cycle + 1) if 0 <= n < len(turns)]
    during = progress[(frame_ms > a.peak_ms) & (frame_ms < b.peak_ms)]
    return any(beside) and not np.any(during > DEFAULT_THRESHOLDS.rest)


def _drive_between(drives: Sequence[RepResult], a: RepResult, b: RepResult) -> bool:
    return any(a.peak_ms < d.peak_ms < b.peak_ms for d in drives)


def _hidden(seen: Bools, frame_ms: npt.NDArray[np.int64], a: RepResult, b: RepResult) -> bool:
    """True when the limb was seen in under `HIDDEN_BELOW` of the frames from `a`'s peak to `b`'s."""
    cycle = (frame_ms >= a.peak_ms) & (frame_ms <= b.peak_ms)
    return bool(np.any(cycle)) and float(np.mean(seen[cycle])) < HIDDEN_BELOW


def _drive_between_two(a: RepResult, b: RepResult) -> RepResult:
    """The hidden drive: from one seen peak to the next, at its middle, graded as the mean of the two."""
    score = round((a.score + b.score) / 2, 1)
    return RepResult(
        start_ms=a.peak_ms,
        peak_ms=(a.peak_ms + b.peak_ms) // 2,
        end_ms=b.peak_ms,
        peak_progress=round((a.peak_progress + b.peak_progress) / 2, 3),
        score=score,
        grade=grade_for(score),
        criteria={},
        cues=(),
        counted=True,
        reason="counted",
    )
