"""What an analysis produces: per-rep results, placement states and the clip's summary (no wire format here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from uptrack.contract.grades import Grade
from uptrack.contract.params import Difficulty
from uptrack.exercises.catalogue import KeypointGroup


@dataclass(frozen=True)
class RepResult:
    """One candidate rep: its span in video time, how deep it went, its grade, and whether it counted."""

    start_ms: int
    peak_ms: int
    end_ms: int
    peak_progress: float
    score: float
    grade: Grade
    criteria: Mapping[str, float]
    cues: tuple[str, ...]
    counted: bool
    reason: str
    """'counted', or why not: 'cut_off' (never back in the start position), 'shallow', 'too_fast', 'too_slow'."""

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class PostureState:
    """Placement at one moment before the exercise starts."""

    timestamp_ms: int
    ready: bool
    missing: tuple[KeypointGroup, ...]
    in_posture: bool
    unmet: tuple[str, ...] = ()
    """A hold's pose conditions (signal names) not yet met, with the `cues` that coach the person into the pose."""
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExerciseAnalysis:
    """Everything measured on one clip for one exercise at one difficulty."""

    exercise: str
    kind: str
    difficulty: Difficulty
    view: str
    duration_ms: int
    candidates: tuple[RepResult, ...] = ()
    hold_seconds: int = 0
    hold_ticks_ms: tuple[int, ...] = ()
    """Video time at which each whole second of a hold was completed."""
    hold_score: float | None = None
    hold_cues: tuple[str, ...] = ()
    start_ms: int | None = None
    """When the exercise started (first counted rep begins, first second held); None if it never did."""
    posture: tuple[PostureState, ...] = ()
    progression: tuple[tuple[int, float], ...] = ()
    """(video time, value 0–100) through each attempt or into the hold (`uptrack.exercises.progression`)."""
    mismatches: tuple[tuple[int, int], ...] = ()
    """(start, end) video ms of long active stretches with no counted rep: the motion is not this exercise."""

    @property
    def reps(self) -> tuple[RepResult, ...]:
        """Reps that count, before any `minGrade` filter."""
        return tuple(r for r in self.candidates if r.counted)
