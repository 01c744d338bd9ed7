"""The exercise catalogue as data: what each exercise follows, how deep a rep must go, and how it is graded.

One generic engine (counting, grading, holds) reads these entries; adding an exercise means adding an entry,
never a code branch. Values are anatomical (degrees, body-segment lengths; see `signals`), not fitted to a clip.

A repetition exercise moves one or more `Component` signals from `rest` to the difficulty's `target`; progress
through a rep is 0 at rest and 1 at the target, and a rep counts once it reaches 1 and comes back (contract §4.2:
harder difficulties need a fuller range of motion). `ideal` is the value that earns a full depth score.
A duration exercise counts seconds while every `Bound` holds; a bound's `cue` coaches the person into the pose.
Jumps are not catalogue entries: `JUMP_EXERCISE_IDS` are measured by `uptrack.exercises.jumps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from uptrack.contract.params import Difficulty

Kind = Literal["repetition", "duration"]
View = Literal["front", "side"]
Camera = Literal["ahead", "behind"]
Posture = Literal["upright", "horizontal", "hanging", "any"]
Reduce = Literal["min", "max", "mean", "range", "side_gap"]


@dataclass(frozen=True)
class KeypointGroup:
    """A required joint: seen on either side of the body is enough (a side view hides the far limb); a joint of
    the midline (`sided=False`, the nose) is one keypoint."""

    joint: str
    sided: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        """The COCO keypoints that satisfy it."""
        return (f"left_{self.joint}", f"right_{self.joint}") if self.sided else (self.joint,)

    @property
    def label(self) -> str:
        """What the posture message asks to bring into the frame ("hips", "nose")."""
        return f"{self.joint}s" if self.sided else self.joint


HIPS: Final = KeypointGroup("hip")
KNEES: Final = KeypointGroup("knee")
ANKLES: Final = KeypointGroup("ankle")
SHOULDERS: Final = KeypointGroup("shoulder")
ELBOWS: Final = KeypointGroup("elbow")
WRISTS: Final = KeypointGroup("wrist")
NOSE: Final = KeypointGroup("nose", sided=False)


@dataclass(frozen=True)
class Levels:
    """A threshold per difficulty."""

    easy: float
    medium: float
    hard: float

    def at(self, difficulty: Difficulty) -> float:
        value: float = getattr(self, difficulty)
        return value


@dataclass(frozen=True)
class Component:
    """A signal that moves during a rep: progress 0 at `rest`, 1 at `target` for the chosen difficulty."""

    signal: str
    rest: float
    target: Levels
    ideal: float
    weight: float = 1.0
    views: frozenset[View] = frozenset({"front", "side"})
    """Views in which the signal means something (feet apart cannot be seen in profile)."""
    cameras: frozenset[Camera] = frozenset({"ahead", "behind"})
    """Where the camera may stand for the signal to be read: `behind` the person (facing their back) or `ahead`
    (facing them, or in profile). Behind a seated press the arms overhead lean toward or away from the camera:
    the image bends the elbow by 20 degrees or more and shortens the wrist's rise, so there only the arm's reach
    over its own length in the same frame is read."""
    reference_s: float = 0.0
    """When set, the signal is read as the share by which it closed from its own largest value within this many
    seconds either side (`rest` and `target` in those units): for a distance whose scale the camera changes from
    shot to shot, the person's own starting position in the same shot is the reference."""


@dataclass(frozen=True)
class Criterion:
    """A form measure over one rep: `signal` reduced by `reduce` over the rep, scored 100 at `good`, 0 at `bad`.

    `side_gap` compares the two sides: the difference between the left and the right range of motion of
    `signal` (read as `<signal>_left`, `<signal>_right`), which a left/right phase lag does not inflate.
    """

    name: str
    signal: str
    reduce: Reduce
    good: float
    bad: float
    weight: float = 1.0
    views: frozenset[View] = frozenset({"front", "side"})
    label: str = field(kw_only=True)
    """What a person reads for it (a plot, a rep table, an app's rep list): a few words, the fault it catches."""


@dataclass(frozen=True)
class Tempo:
    """Rep duration in seconds: outside `counted` a cycle is not a rep; inside `ideal` it earns a full tempo score."""

    counted: tuple[float, float]
    ideal: tuple[float, float]


@dataclass(frozen=True)
class Cue:
    """A recommendation rule: when `criterion` scores below `below` on a rep, `text` is sent."""

    criterion: str
    below: float
    text: str


@dataclass(frozen=True)
class Bound:
    """A posture condition of a hold: `signal` within [`low`, `high`] at the difficulty (None: unbounded)."""

    signal: str
    low: Levels | None = None
    high: Levels | None = None
    cue: str = ""
    """What to tell the person while this condition is not met (sent as a `posture` message)."""


@dataclass(frozen=True)
class ExerciseDefinition:
    """One catalogue entry (contract §4): everything the engine needs to count, grade and coach an exercise."""

    id: str
    name: str
    kind: Kind
    required_keypoints: tuple[KeypointGroup, ...]
    views: frozenset[View]
    posture: Posture
    phases: tuple[str, ...]
    components: tuple[Component, ...] = ()
    tempo: Tempo = Tempo(counted=(0.5, 12.0), ideal=(1.2, 5.0))
    criteria: tuple[Criterion, ...] = ()
    weights: Mapping[str, float] = field(default_factory=lambda: {"depth": 0.5, "tempo": 0.15})
    cues: tuple[Cue, ...] = ()
    bounds: tuple[Bound, ...] = ()
    alternating: bool = False
    """Each side's limb makes its own reps (one per knee drive): the components are read per side
    (`<signal>_left`, `<signal>_right`) and each side is counted on its own, so the brief moment where the two
    limbs cross between drives never has to show as a return to rest. A limb hidden or mis-seen through a regular
    cycle of the other still drove once in it (`uptrack.exercises.alternation`)."""
    alternative: Component | None = None
    """A second reading of the movement that counts a rep where the components barely move (a crunch's curl seen
    from any side, while the trunk's incline stays put): progress is the higher of the two, but the grade's depth
    comes from the components alone, so a rep only the alternative sees counts with the depth it really had."""
    alternative_while: tuple[Bound, ...] = ()
    """Where the alternative reading is trusted: the rest of the body in the exercise's shape (a crunch is done on
    bent knees; a push-up or a plank, whose head also comes closer to the knees, on straight legs)."""

    @property
    def is_duration(self) -> bool:
        return self.kind == "duration"

    def criterion_label(self, name: str) -> str:
        """What a person reads for criterion `name`: the catalogue's label, else the label of a score every rep
        gets (depth, tempo)."""
        return {**SCORED_LABELS, **{c.name: c.label for c in self.criteria}}[name]

    def criterion_bar(self, name: str) -> float:
        """The score below which criterion `name` is a fault: where its cue fires, else `DEFAULT_BAR`."""
        bars = [cue.below for cue in self.cues if cue.criterion == name]
        return min(bars) if bars else DEFAULT_BAR

    @property
    def sides(self) -> tuple[str, ...]:
        """Suffixes of the component signals, one counting track each."""
        return ("_left", "_right") if self.alternating else ("",)

    def signal_names(self) -> frozenset[str]:
        """Every signal this entry reads (components, criteria, hold bounds)."""
        readings = (*self.components, *([self.alternative] if self.alternative else []))
        names = {c.signal + side for c in readings for side in self.sides}
        names |= {c.signal for c in self.criteria if c.reduce != "side_gap"}
        names |= {f"{c.signal}_{side}" for c in self.criteria if c.reduce == "side_gap" for side in ("left", "right")}
        bounds = (*self.bounds, *self.alternative_while)
        return frozenset(names | {b.signal for b in bounds} | POSTURE_SIGNALS)


SCORED_LABELS: Final[Mapping[str, str]] = {"depth": "range of motion", "tempo": "tempo"}
"""Labels of the two scores every rep gets from the grader itself, not from a catalogue `Criterion`."""

DEFAULT_BAR: Final = 70.0
"""A criterion's bar when no cue names it: below 70 the criterion alone would grade the rep D or worse."""


def _lv(easy: float, medium: float, hard: float) -> Levels:
    return Levels(easy, medium, hard)


def _pose_hold(
    exercise_id: str,
    name: str,
    required: tuple[KeypointGroup, ...],
    views: frozenset[View],
    posture: Posture,
    depth: tuple[str, float, float],
    bounds: tuple[Bound, ...],
) -> ExerciseDefinition:
    """A held pose (yoga, mobility): held while every bound is met, graded on how deep one measure goes
    (`depth`: the signal, its good and its bad mean)."""
    signal, good, bad = depth
    criteria = (Criterion("depth", signal, "mean", good=good, bad=bad, label="depth of the pose"),)
    return ExerciseDefinition(
        exercise_id, name, "duration", required, views, posture, ("hold",), criteria=criteria, bounds=bounds
    )


POSTURE_SIGNALS: Final = frozenset(
    {"torso_incline", "hip_height", "wrist_below_hip", "shoulder_width", "shoulder_turn", "shoulder_over_wrist"}
)
"""Signals every analysis reads to check the body's orientation and the camera view."""

_BOTH: Final[frozenset[View]] = frozenset({"front", "side"})
_FRONT: Final[frozenset[View]] = frozenset({"front"})
_SIDE: Final[frozenset[View]] = frozenset({"side"})
_AHEAD: Final[frozenset[Camera]] = frozenset({"ahead"})
_BEHIND: Final[frozenset[Camera]] = frozenset({"behind"})
_LEGS: Final = (HIPS, KNEES, ANKLES)
_ARMS: Final = (SHOULDERS, ELBOWS, WRISTS)
_FULL: Final = (*_ARMS, *_LEGS)
_REP_PHASES: Final = ("start", "lowering", "bottom", "rising")
_RAISE_PHASES: Final = ("start", "raising", "top", "lowering")

_KNEE_DEPTH = Component("knee_angle", rest=170, target=_lv(125, 110, 95), ideal=90)
_HIP_DEPTH = Component("hip_height", rest=0.95, target=_lv(0.78, 0.7, 0.6), ideal=0.55)
_CURL = (
    Component("elbow_angle", rest=155, target=_lv(85, 70, 55), ideal=45),
    Component("wrist_over_elbow", rest=-0.9, target=_lv(0.1, 0.35, 0.55), ideal=0.7),
)
_KNEE_SYMMETRY = Criterion(
    "symmetry", "knee_angle", "side_gap", good=10, bad=50, weight=0.1, views=_FRONT, label="both knees alike"
)
_ELBOW_SYMMETRY = Criterion(
    "symmetry", "elbow_angle", "side_gap", good=10, bad=50, weight=0.1, views=_FRONT, label="both arms alike"
)
_ARM_SYMMETRY = Criterion(
    "symmetry", "shoulder_angle", "side_gap", good=10, bad=50, weight=0.1, views=_FRONT, label="both arms alike"
)
_STRICT_ELBOWS = Criterion(
    "stability", "shoulder_angle", "max", good=15, bad=40, weight=0.5, views=_SIDE, label="elbows still"
)
_UPRIGHT_TRUNK = Criterion("stability", "torso_incline", "max", good=15, bad=45, weight=0.2, label="upright torso")
_JACK = (
    Component("shoulder_angle", rest=25, target=_lv(100, 120, 140), ideal=150, weight=1.0),
    Component("ankle_spread", rest=0.3, target=_lv(0.6, 0.8, 1.0), ideal=1.1, weight=0.5, views=_FRONT),
)
_SEATED = Bound("hip_height", high=_lv(0.45, 0.4, 0.35), cue="Sit down on the floor.")
_STRAIGHT_LEGS = Bound("knee_angle", low=_lv(140, 150, 160), cue="Straighten your legs.")
_HANDS_AT_FEET = Bound("wrist_to_ankle", high=_lv(0.9, 0.7, 0.55), cue="Reach back and hold your feet.")
_ON_A_CHAIR = Bound("knee_angle", low=_lv(60, 65, 70), high=_lv(130, 120, 115), cue="Sit on the chair, knees bent.")
_JACK_CUES = (
    Cue("depth", 85, "Raise your arms higher, up over your head."),
    Cue("tempo", 60, "Keep a steady rhythm."),
)

EXERCISES: Final[tuple[ExerciseDefinition, ...]] = (
    ExerciseDefinition(
        "squat",
        "Squat",
        "repetition",
        required_keypoints=_LEGS,
        views=_BOTH,
        posture="upright",
        phases=_REP_PHASES,
        components=(_KNEE_DEPTH, _HIP_DEPTH),
        tempo=Tempo(counted=(0.7, 12.0), ideal=(1.0, 5.0)),
        criteria=(
            Criterion("stability", "torso_incline", "max", good=45, bad=75, weight=0.2, label="chest up"),
            _KNEE_SYMMETRY,
        ),
        cues=(
            Cue("depth", 85, "Go lower: bend your knees until your thighs are parallel to the floor."),
            Cue("stability", 70, "Keep your chest up and your back straight."),
            Cue("tempo", 70, "Slow down and control the movement."),
        ),
    ),
    ExerciseDefinition(
        "push_up",
        "Push-up",
        "repetition",
        required_keypoints=(*_ARMS, HIPS),
        views=_BOTH,
        posture="horizontal",
        phases=_REP_PHASES,
        components=(
            Component("elbow_angle", rest=160, target=_lv(110, 95, 80), ideal=70),
            Component("shoulder_over_wrist", rest=1.7, target=_lv(1.1, 0.9, 0.7), ideal=0.6),
        ),
        tempo=Tempo(counted=(0.5, 10.0), ideal=(0.8, 4.0)),
        criteria=(
            Criterion(
                "body_line", "body_line", "min", good=160, bad=130, weight=0.25, views=_SIDE, label="straight body"
            ),
            _ELBOW_SYMMETRY,
        ),
        weights={"depth": 0.5, "tempo": 0.1},
        cues=(
            Cue("depth", 85, "Lower your chest closer to the floor."),
            Cue("body_line", 70, "Keep your body in a straight line: don't let your hips sag or pike."),
            Cue("tempo", 70, "Control the descent."),
        ),
    ),
    ExerciseDefinition(
        "lunge",
        "Lunge",
        "repetition",
        required_keypoints=_LEGS,
        views=_BOTH,
        posture="upright",
        phases=_REP_PHASES,
        components=(
            Component("straighter_knee_angle", rest=170, target=_lv(125, 110, 100), ideal=90),
            Component("hip_over_lower_foot", rest=0.95, target=_lv(0.78, 0.7, 0.6), ideal=0.55),
        ),
        tempo=Tempo(counted=(0.7, 12.0), ideal=(1.0, 5.0)),
        criteria=(_UPRIGHT_TRUNK,),
        cues=(
            Cue("depth", 85, "Step further and lower your back knee toward the floor."),
            Cue("stability", 70, "Keep your torso upright."),
        ),
    ),
    ExerciseDefinition(
        "side_lunge",
        "Side lunge",
        "repetition",
        required_keypoints=_LEGS,
        views=_FRONT,
        posture="upright",
        phases=_REP_PHASES,
        components=(Component("front_knee_angle", rest=170, target=_lv(130, 115, 105), ideal=95),),
        tempo=Tempo(counted=(0.7, 12.0), ideal=(1.0, 5.0)),
        criteria=(Criterion("stability", "torso_incline", "max", good=30, bad=60, weight=0.2, label="chest up"),),
        cues=(
            Cue("depth", 85, "Sit deeper into the bent leg and keep the other leg straight."),
            Cue("stability", 70, "Keep your chest up."),
        ),
    ),
    ExerciseDefinition(
        "bicep_curl",
        "Bicep curl",
        "repetition",
        required_keypoints=_ARMS,
        views=_BOTH,
        posture="upright",
        phases=_RAISE_PHASES,
        components=_CURL,
        tempo=Tempo(counted=(0.6, 10.0), ideal=(1.0, 5.0)),
        criteria=(_STRICT_ELBOWS, _ELBOW_SYMMETRY),
        weights={"depth": 0.4, "tempo": 0.1},
        cues=(
            Cue("depth", 85, "Curl all the way up, then lower until your arms are straight."),
            Cue("stability", 70, "Keep your elbows pinned to your sides; don't swing."),
            Cue("tempo", 70, "Lower the weight slowly."),
        ),
    ),
    ExerciseDefinition(
        "hammer_curl",
        "Hammer curl",
        "repetition",
        required_keypoints=_ARMS,
        views=_BOTH,
        posture="upright",
        phases=_RAISE_PHASES,
        components=_CURL,
        tempo=Tempo(counted=(0.6, 10.0), ideal=(1.0, 5.0)),
        criteria=(_STRICT_ELBOWS, _ELBOW_SYMMETRY),
        weights={"depth": 0.4, "tempo": 0.1},
        cues=(
            Cue("depth", 85, "Lift the dumbbells up to your shoulders, palms facing each other."),
            Cue("stability", 70, "Keep your elbows still at your sides."),
        ),
    ),
    ExerciseDefinition(
        "jumping_jack",
        "Jumping jack",
        "repetition",
        required_keypoints=_FULL,
        views=_BOTH,
        posture="upright",
        phases=("closed", "opening", "open", "closing"),
        components=_JACK,
        tempo=Tempo(counted=(0.2, 4.0), ideal=(0.3, 2.0)),
        criteria=(_ARM_SYMMETRY,),
        weights={"depth": 0.6, "tempo": 0.15},
        cues=_JACK_CUES,
    ),
    ExerciseDefinition(
        "low_impact_jack",
        "Low-impact jack",
        "repetition",
        required_keypoints=_FULL,
        views=_FRONT,
        posture="upright",
        phases=("closed", "stepping out", "open", "stepping in"),
        components=(
            Component("shoulder_angle", rest=25, target=_lv(90, 110, 130), ideal=145),
            Component("ankle_spread", rest=0.3, target=_lv(0.5, 0.65, 0.8), ideal=0.9, weight=0.5, views=_FRONT),
        ),
        tempo=Tempo(counted=(0.3, 6.0), ideal=(0.5, 3.0)),
        criteria=(_ARM_SYMMETRY,),
        weights={"depth": 0.6, "tempo": 0.15},
        cues=_JACK_CUES,
    ),
    ExerciseDefinition(
        "shoulder_press",
        "Shoulder press",
        "repetition",
        required_keypoints=_ARMS,
        views=_BOTH,
        posture="upright",
        phases=("racked", "pressing", "lockout", "lowering"),
        components=(
            Component("elbow_angle", rest=85, target=_lv(145, 160, 168), ideal=175, cameras=_AHEAD),
            Component("wrist_over_shoulder", rest=0.5, target=_lv(1.3, 1.6, 1.75), ideal=1.85, cameras=_AHEAD),
            # the arm's line within 35, 30, 25 degrees of vertical (cosines); racked, the forearm is half the arm
            Component("arm_reach", rest=0.5, target=_lv(0.819, 0.866, 0.906), ideal=1.0, cameras=_BEHIND),
        ),
        tempo=Tempo(counted=(0.6, 10.0), ideal=(1.2, 4.0)),
        criteria=(
            Criterion("stability", "torso_incline", "max", good=10, bad=30, weight=0.2, label="no leaning back"),
            _ELBOW_SYMMETRY,
        ),
        weights={"depth": 0.5, "tempo": 0.1},
        cues=(
            Cue("depth", 85, "Press all the way up until your arms are straight."),
            Cue("stability", 70, "Brace your core; don't lean back."),
            Cue("symmetry", 70, "Press both arms evenly."),
        ),
    ),
    ExerciseDefinition(
        "lateral_raise",
        "Lateral raise",
        "repetition",
        required_keypoints=_ARMS,
        views=_FRONT,
        posture="upright",
        phases=_RAISE_PHASES,
        components=(
            Component("shoulder_angle", rest=20, target=_lv(65, 75, 85), ideal=90),
            Component("elbow_over_shoulder", rest=-0.95, target=_lv(-0.4, -0.25, -0.1), ideal=0.0, weight=0.5),
        ),
        tempo=Tempo(counted=(0.6, 10.0), ideal=(1.5, 5.0)),
        criteria=(
            Criterion("control", "shoulder_angle", "max", good=100, bad=130, weight=0.2, label="no swing up"),
            _ARM_SYMMETRY,
        ),
        cues=(
            Cue("depth", 85, "Raise your arms to shoulder height."),
            Cue("control", 70, "Stop at shoulder height; don't swing the weights up."),
            Cue("symmetry", 70, "Raise both arms evenly."),
        ),
    ),
    ExerciseDefinition(
        "glute_bridge",
        "Glute bridge",
        "repetition",
        required_keypoints=(SHOULDERS, *_LEGS[:2]),
        views=_SIDE,
        posture="horizontal",
        phases=("down", "lifting", "top", "lowering"),
        components=(Component("hip_angle", rest=130, target=_lv(150, 160, 168), ideal=175),),
        tempo=Tempo(counted=(0.6, 12.0), ideal=(1.5, 6.0)),
        cues=(
            Cue("depth", 85, "Push your hips higher until your body forms a straight line from knees to shoulders."),
        ),
    ),
    ExerciseDefinition(
        "high_knees",
        "High knees",
        "repetition",
        # The knee lift reads hips and knees only: a close-up of the torso and thighs (feet out of frame) is
        # a usual way to film the drives, and must not blank them.
        required_keypoints=_LEGS[:2],
        views=_BOTH,
        posture="upright",
        phases=("down", "lifting", "top", "lowering"),
        components=(Component("knee_lift", rest=0.0, target=_lv(0.5, 0.7, 0.9), ideal=1.0),),
        tempo=Tempo(counted=(0.15, 3.0), ideal=(0.25, 1.2)),
        alternating=True,
        weights={"depth": 0.6, "tempo": 0.2},
        cues=(Cue("depth", 85, "Drive your knees up to hip height."),),
    ),
    ExerciseDefinition(
        "sit_up",
        "Sit-up",
        "repetition",
        required_keypoints=(SHOULDERS, *_LEGS[:2]),
        views=_SIDE,
        posture="horizontal",
        phases=("lying", "curling up", "up", "lowering"),
        components=(
            Component("torso_incline", rest=75, target=_lv(50, 40, 30), ideal=20),
            Component("hip_angle", rest=125, target=_lv(95, 85, 75), ideal=65, views=_SIDE),
        ),
        alternative=Component("nose_to_knees", rest=0.0, target=_lv(0.08, 0.1, 0.12), ideal=0.6, reference_s=2.0),
        alternative_while=(Bound("knee_angle_min", high=_lv(150, 150, 150)),),
        tempo=Tempo(counted=(0.8, 12.0), ideal=(1.5, 6.0)),
        cues=(Cue("depth", 85, "Sit all the way up, chest toward your knees."),),
    ),
    ExerciseDefinition(
        "pull_up",
        "Pull-up",
        "repetition",
        required_keypoints=_ARMS,
        views=_BOTH,
        posture="hanging",
        phases=("hanging", "pulling", "top", "lowering"),
        components=(
            Component("elbow_angle", rest=160, target=_lv(110, 95, 80), ideal=70),
            Component("shoulder_over_wrist", rest=-1.7, target=_lv(-1.1, -0.9, -0.7), ideal=-0.5),
        ),
        tempo=Tempo(counted=(0.8, 12.0), ideal=(1.5, 6.0)),
        criteria=(
            Criterion("stability", "torso_incline", "max", good=15, bad=40, weight=0.2, label="no kipping"),
            _ELBOW_SYMMETRY,
        ),
        weights={"depth": 0.5, "tempo": 0.1},
        cues=(
            Cue("depth", 85, "Pull until your chin clears the bar, then lower to straight arms."),
            Cue("stability", 70, "Avoid kipping: keep your body still."),
        ),
    ),
    ExerciseDefinition(
        "plank",
        "Plank",
        "duration",
        required_keypoints=(*_ARMS[:2], *_LEGS),
        views=_SIDE,
        posture="horizontal",
        phases=("hold",),
        bounds=(
            Bound("body_line", low=_lv(145, 155, 165)),
            Bound("torso_incline", low=_lv(55, 60, 65)),
            Bound("shoulder_over_elbow", low=_lv(0.6, 0.6, 0.6)),
        ),
        criteria=(Criterion("body_line", "body_line", "mean", good=172, bad=145, label="hips in line"),),
        cues=(Cue("body_line", 70, "Keep your hips in line with your shoulders and ankles."),),
    ),
    ExerciseDefinition(
        "wall_sit",
        "Wall sit",
        "duration",
        required_keypoints=_LEGS,
        views=_SIDE,
        posture="any",
        phases=("hold",),
        bounds=(
            Bound("knee_angle", low=_lv(60, 70, 75), high=_lv(130, 120, 105)),
            Bound("hip_height", low=_lv(0.3, 0.3, 0.3), high=_lv(0.8, 0.72, 0.65)),
            Bound("torso_incline", high=_lv(40, 35, 30)),
        ),
        criteria=(Criterion("depth", "knee_angle", "mean", good=90, bad=130, label="thighs level"),),
        cues=(Cue("depth", 70, "Slide lower until your thighs are parallel to the floor."),),
    ),
    ExerciseDefinition(
        "balance_leg",
        "Balance on one leg",
        "duration",
        required_keypoints=_LEGS,
        views=_BOTH,
        posture="upright",
        phases=("hold",),
        bounds=(Bound("foot_lift", low=_lv(0.25, 0.4, 0.6)), Bound("torso_incline", high=_lv(35, 25, 20))),
        criteria=(Criterion("stability", "torso_incline", "mean", good=5, bad=30, label="upright torso"),),
        cues=(Cue("stability", 70, "Stand tall and keep your hips level."),),
    ),
    ExerciseDefinition(
        "balance_leg_left",
        "Balance on the left leg",
        "duration",
        required_keypoints=_LEGS,
        views=_BOTH,
        posture="upright",
        phases=("hold",),
        bounds=(Bound("right_foot_lift", low=_lv(0.25, 0.4, 0.6)), Bound("torso_incline", high=_lv(35, 25, 20))),
        criteria=(Criterion("stability", "torso_incline", "mean", good=5, bad=30, label="upright torso"),),
        cues=(Cue("stability", 70, "Stand tall on your left leg and keep your hips level."),),
    ),
    ExerciseDefinition(
        "balance_leg_right",
        "Balance on the right leg",
        "duration",
        required_keypoints=_LEGS,
        views=_BOTH,
        posture="upright",
        phases=("hold",),
        bounds=(Bound("left_foot_lift", low=_lv(0.25, 0.4, 0.6)), Bound("torso_incline", high=_lv(35, 25, 20))),
        criteria=(Criterion("stability", "torso_incline", "mean", good=5, bad=30, label="upright torso"),),
        cues=(Cue("stability", 70, "Stand tall on your right leg and keep your hips level."),),
    ),
    ExerciseDefinition(
        "deadlift",
        "Deadlift",
        "repetition",
        required_keypoints=(*_ARMS[2:], *_LEGS[:2], SHOULDERS),
        views=_BOTH,
        posture="any",
        phases=("floor", "lifting", "lockout", "lowering"),
        components=(
            Component("wrist_below_hip", rest=0.5, target=_lv(0.25, 0.15, 0.1), ideal=0.0),
            Component("hip_angle", rest=90, target=_lv(150, 160, 168), ideal=178, views=_SIDE),
        ),
        tempo=Tempo(counted=(1.0, 15.0), ideal=(1.5, 6.0)),
        criteria=(
            Criterion("lockout", "hip_angle", "max", good=170, bad=145, weight=0.2, views=_SIDE, label="hip lockout"),
        ),
        cues=(
            Cue("depth", 85, "Stand all the way up: hips and knees locked out at the top."),
            Cue("lockout", 70, "Squeeze your hips through at the top: no leaning back, no soft hips."),
        ),
    ),
    ExerciseDefinition(
        "tricep_dip",
        "Tricep dip",
        "repetition",
        required_keypoints=_ARMS,
        views=_BOTH,
        posture="upright",
        phases=("top", "lowering", "bottom", "pressing"),
        components=(
            Component("elbow_angle", rest=160, target=_lv(115, 100, 90), ideal=80),
            Component("shoulder_over_wrist", rest=1.6, target=_lv(1.0, 0.8, 0.6), ideal=0.3),
        ),
        tempo=Tempo(counted=(0.6, 12.0), ideal=(1.0, 5.0)),
        criteria=(_ELBOW_SYMMETRY,),
        cues=(Cue("depth", 85, "Lower until your upper arms are parallel to the floor, then press to straight arms."),),
    ),
    ExerciseDefinition(
        "calf_raise",
        "Calf raise",
        "repetition",
        required_keypoints=_LEGS,
        views=_BOTH,
        posture="upright",
        phases=("heels down", "rising", "top", "lowering"),
        components=(Component("body_rise", rest=0.0, target=_lv(0.06, 0.08, 0.1), ideal=0.15),),
        tempo=Tempo(counted=(0.4, 10.0), ideal=(1.0, 4.0)),
        weights={"depth": 0.6, "tempo": 0.2},
        cues=(
            Cue("depth", 85, "Rise all the way onto the balls of your feet."),
            Cue("tempo", 70, "Slow down: pause at the top and lower your heels under control."),
        ),
    ),
    ExerciseDefinition(
        "mountain_climber",
        "Mountain climber",
        "repetition",
        required_keypoints=(*_ARMS[:1], *_LEGS),
        views=_BOTH,
        posture="horizontal",
        phases=("plank", "driving", "knee in", "returning"),
        components=(Component("leg_hip_angle", rest=145, target=_lv(125, 115, 105), ideal=85),),
        tempo=Tempo(counted=(0.12, 3.0), ideal=(0.2, 1.2)),
        alternating=True,
        weights={"depth": 0.6, "tempo": 0.2},
        cues=(Cue("depth", 85, "Drive each knee all the way towards your chest."),),
    ),
    ExerciseDefinition(
        "leg_raise",
        "Leg raise",
        "repetition",
        required_keypoints=(SHOULDERS, *_LEGS[:2]),
        views=_SIDE,
        posture="horizontal",
        phases=("legs down", "raising", "legs up", "lowering"),
        components=(Component("body_line", rest=160, target=_lv(135, 125, 115), ideal=90),),
        tempo=Tempo(counted=(0.8, 12.0), ideal=(1.5, 6.0)),
        criteria=(
            Criterion("straight_legs", "knee_angle", "min", good=165, bad=100, weight=0.2, label="straight legs"),
        ),
        cues=(
            Cue("depth", 85, "Raise your legs until they point at the ceiling."),
            Cue("straight_legs", 70, "Keep your legs straight as you raise them."),
        ),
    ),
    ExerciseDefinition(
        "back_flexibility_test",
        "Back flexibility test",
        "repetition",
        required_keypoints=(SHOULDERS, *_LEGS),
        views=_SIDE,
        posture="upright",
        phases=("standing", "bending", "deepest", "returning"),
        components=(Component("torso_incline", rest=15, target=_lv(30, 40, 50), ideal=75),),
        tempo=Tempo(counted=(1.0, 30.0), ideal=(2.0, 15.0)),
        cues=(Cue("depth", 85, "Bend forward from the hips as far as you comfortably can, knees straight."),),
    ),
    ExerciseDefinition(
        "shoulder_roll",
        "Shoulder roll",
        "repetition",
        required_keypoints=(NOSE, SHOULDERS),
        views=_BOTH,
        posture="upright",
        phases=("relaxed", "lifting", "top", "rolling back"),
        components=(Component("neck_shrug", rest=0.0, target=_lv(0.05, 0.07, 0.09), ideal=0.14),),
        tempo=Tempo(counted=(0.6, 10.0), ideal=(1.0, 4.0)),
    ),
    ExerciseDefinition(
        "shoulder_deep_breath",
        "Shoulder deep breath",
        "repetition",
        required_keypoints=_ARMS,
        views=_FRONT,
        posture="upright",
        phases=("arms down", "inhaling", "arms up", "exhaling"),
        components=(Component("shoulder_angle", rest=25, target=_lv(120, 140, 155), ideal=170),),
        tempo=Tempo(counted=(1.5, 30.0), ideal=(4.0, 12.0)),
        criteria=(_ARM_SYMMETRY,),
    ),
    ExerciseDefinition(
        "side_plank",
        "Side plank",
        "duration",
        required_keypoints=(*_ARMS[:2], *_LEGS),
        views=_FRONT,
        posture="horizontal",
        phases=("hold",),
        bounds=(
            Bound("body_line", low=_lv(150, 160, 165), cue="Lift your hips: one straight line from head to feet."),
            Bound("torso_incline", low=_lv(40, 45, 50), cue="Lie on your side, propped on one arm."),
            Bound("support_arm", low=_lv(0.5, 0.6, 0.7), cue="Put your supporting elbow under your shoulder."),
        ),
        criteria=(Criterion("body_line", "body_line", "mean", good=175, bad=150, label="hips up"),),
        cues=(Cue("body_line", 70, "Keep your hips up in line with your shoulders and ankles."),),
    ),
    _pose_hold(
        "chair_forward_fold",
        "Chair forward fold",
        (SHOULDERS, *_LEGS),
        _SIDE,
        "any",
        depth=("hip_angle", 35, 75),
        bounds=(
            _ON_A_CHAIR,
            Bound("hip_angle", high=_lv(75, 65, 55), cue="Fold forward from the hips, chest towards your thighs."),
        ),
    ),
    _pose_hold(
        "chair_side_stretch",
        "Chair side stretch",
        (*_ARMS[:2], HIPS),
        _FRONT,
        "any",
        depth=("torso_incline", 35, 10),
        bounds=(
            Bound("raised_arm_angle", low=_lv(130, 140, 150), cue="Reach one arm up over your head."),
            Bound("torso_incline", low=_lv(10, 15, 20), high=_lv(60, 55, 50), cue="Lean your upper body sideways."),
        ),
    ),
    _pose_hold(
        "split",
        "Front split",
        _LEGS,
        _SIDE,
        "any",
        depth=("leg_split_angle", 175, 130),
        bounds=(
            Bound("leg_split_angle", low=_lv(130, 145, 160), cue="Slide your front leg forward and back leg back."),
            Bound("hip_height", high=_lv(0.45, 0.35, 0.25), cue="Lower your hips towards the floor."),
            Bound("torso_incline", high=_lv(50, 45, 40), cue="Keep your chest up."),
        ),
    ),
    _pose_hold(
        "facial_split",
        "Middle split",
        _LEGS,
        _FRONT,
        "any",
        depth=("leg_split_angle", 175, 120),
        bounds=(
            Bound("leg_split_angle", low=_lv(120, 135, 150), cue="Slide your feet further apart to the sides."),
            Bound("hip_height", high=_lv(0.45, 0.35, 0.25), cue="Lower your hips towards the floor."),
            Bound("torso_incline", high=_lv(50, 45, 40), cue="Keep your chest up."),
        ),
    ),
    _pose_hold(
        "pancake",
        "Pancake",
        (SHOULDERS, *_LEGS),
        _SIDE,
        "any",
        depth=("torso_incline", 80, 40),
        bounds=(
            _SEATED,
            _STRAIGHT_LEGS,
            Bound("torso_incline", low=_lv(40, 50, 60), cue="Fold forward between your legs, chest to the floor."),
        ),
    ),
    _pose_hold(
        "closing",
        "Closing (pike)",
        (SHOULDERS, *_LEGS),
        _SIDE,
        "any",
        depth=("hip_angle", 25, 65),
        bounds=(
            _SEATED,
            _STRAIGHT_LEGS,
            Bound("hip_angle", high=_lv(65, 55, 45), cue="Fold forward over your legs, chest to your knees."),
        ),
    ),
    _pose_hold(
        "bridge",
        "Bridge",
        (SHOULDERS, *_LEGS),
        _SIDE,
        "horizontal",
        depth=("hip_angle", 175, 145),
        bounds=(
            Bound("hip_angle", low=_lv(145, 155, 165), cue="Push your hips up: knees, hips and shoulders in line."),
            Bound("knee_angle", high=_lv(125, 115, 105), cue="Bend your knees, feet flat on the floor."),
            Bound("hip_over_shoulder", low=_lv(0.2, 0.3, 0.4), cue="Keep your shoulders on the floor, hips high."),
        ),
    ),
    ExerciseDefinition(
        "cobra",
        "Cobra",
        "duration",
        required_keypoints=(*_ARMS, *_LEGS[:2]),
        views=_SIDE,
        posture="horizontal",
        phases=("hold",),
        bounds=(
            Bound("elbow_angle", low=_lv(135, 145, 155), cue="Press your chest up, arms nearly straight."),
            Bound("torso_incline", low=_lv(20, 25, 30), high=_lv(70, 65, 60), cue="Lift your chest off the mat."),
            Bound("hip_height", high=_lv(0.4, 0.35, 0.3), cue="Keep your hips and legs on the mat."),
        ),
        criteria=(Criterion("depth", "elbow_angle", "mean", good=170, bad=120, label="chest lifted"),),
        cues=(Cue("depth", 70, "Straighten your arms to lift your chest higher."),),
    ),
    _pose_hold(
        "bow",
        "Bow",
        (*_ARMS, *_LEGS),
        _SIDE,
        "horizontal",
        depth=("torso_incline", 45, 85),
        bounds=(
            _HANDS_AT_FEET,
            Bound("knee_angle", high=_lv(110, 100, 90), cue="Bend your knees, heels towards your hips."),
            Bound("torso_incline", low=_lv(25, 30, 35), high=_lv(85, 80, 75), cue="Lift your chest and thighs."),
        ),
    ),
    _pose_hold(
        "tiger",
        "Tiger",
        (*_ARMS, *_LEGS),
        _SIDE,
        "horizontal",
        depth=("hip_angle_max", 180, 145),
        bounds=(
            Bound("wrist_below_hip", low=_lv(0.5, 0.6, 0.7), cue="Come onto your hands and knees."),
            Bound("hip_angle_min", high=_lv(130, 120, 110), cue="Keep the supporting knee under your hip."),
            Bound("hip_angle_max", low=_lv(145, 155, 165), cue="Stretch one leg back and up."),
        ),
    ),
    _pose_hold(
        "camel",
        "Camel",
        (*_ARMS, *_LEGS),
        _SIDE,
        "any",
        depth=("torso_incline", 60, 15),
        bounds=(
            Bound("knee_angle", low=_lv(50, 55, 60), high=_lv(125, 115, 110), cue="Kneel with your thighs upright."),
            _HANDS_AT_FEET,
            Bound("torso_incline", low=_lv(15, 25, 35), cue="Lean back, opening your chest to the ceiling."),
        ),
    ),
    _pose_hold(
        "king_pigeon",
        "King pigeon",
        (*_ARMS, *_LEGS),
        _SIDE,
        "any",
        depth=("leg_split_angle", 170, 100),
        bounds=(
            Bound("leg_split_angle", low=_lv(100, 120, 140), cue="Front knee forward, back leg long behind you."),
            Bound("knee_angle_min", high=_lv(100, 90, 80), cue="Bend your back knee, foot towards your head."),
            Bound("wrist_over_shoulder", low=_lv(0.3, 0.5, 0.7), cue="Reach your hands up and back to your foot."),
        ),
    ),
    _pose_hold(
        "foot_to_hand",
        "Foot to hand",
        (*_ARMS[2:], *_LEGS),
        _BOTH,
        "upright",
        depth=("foot_lift", 2.0, 1.2),
        bounds=(
            Bound("foot_lift", low=_lv(1.2, 1.5, 1.8), cue="Lift one leg up to hip height."),
            Bound("wrist_to_ankle", high=_lv(0.9, 0.7, 0.55), cue="Hold the raised foot with your hand."),
            Bound("torso_incline", high=_lv(35, 30, 25), cue="Stand tall on the supporting leg."),
        ),
    ),
    _pose_hold(
        "i",
        "Standing I",
        (*_ARMS, *_LEGS),
        _FRONT,
        "upright",
        depth=("shoulder_angle", 175, 145),
        bounds=(
            Bound("shoulder_angle", low=_lv(145, 155, 165), cue="Raise both arms straight overhead."),
            Bound("elbow_angle", low=_lv(145, 155, 165), cue="Straighten your arms."),
            Bound("knee_angle", low=_lv(155, 160, 165), cue="Straighten your legs."),
            Bound("ankle_spread", high=_lv(0.8, 0.6, 0.45), cue="Bring your feet together."),
        ),
    ),
    _pose_hold(
        "needle",
        "Needle (standing split)",
        (*_ARMS[2:], *_LEGS),
        _SIDE,
        "any",
        depth=("leg_split_angle", 175, 110),
        bounds=(
            Bound("torso_incline", low=_lv(100, 115, 130), cue="Fold forward, head towards your standing knee."),
            Bound("wrist_below_hip", low=_lv(0.6, 0.8, 1.0), cue="Bring your hands down to the floor."),
            Bound("leg_split_angle", low=_lv(110, 130, 150), cue="Lift your back leg high behind you."),
        ),
    ),
)
"""Every exercise uptrack runs, in catalogue order."""

_BY_ID: Final[Mapping[str, ExerciseDefinition]] = {e.id: e for e in EXERCISES}

JUMP_EXERCISE_IDS: Final = frozenset({"jump_analysis", "air_time_jump"})
"""PoseTracker's custom jump exercises: measured by `uptrack.exercises.jumps`, not by the rep and hold engine."""


def exercise_ids() -> frozenset[str]:
    """Every id a request may name: catalogue entries and the jumps (aliases are resolved by the contract parser
    before lookup)."""
    return frozenset(_BY_ID) | JUMP_EXERCISE_IDS


def duration_exercise_ids() -> frozenset[str]:
    """Ids whose counter counts seconds held (contract §4.1 "static")."""
    return frozenset(e.id for e in EXERCISES if e.is_duration)


def get_exercise(exercise_id: str) -> ExerciseDefinition:
    """The entry for a canonical id; KeyError when the catalogue has none."""
    return _BY_ID[exercise_id]
