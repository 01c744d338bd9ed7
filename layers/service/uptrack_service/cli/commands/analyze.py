"""`uptrack analyze PATH`: analyse a local video or photo on this machine.

In a terminal it shows a live line and ends with a summary (each rep with its grade, score and the criterion
it failed, and where the outputs went); piped (or with `--format json`) it prints the contract's messages, one
JSON line each, for `jq` or a program. `--reference ID` counts repetitions of a movement made with
`uptrack reference create`; `--export OUT.mp4` writes the annotated H.264 video (announced by `export_ready`);
`--overlay OUT.png` writes a photo's skeleton picture. An option that cannot apply to the file is refused (exit 2).

examples:
  uptrack analyze samples/squat_rear_2reps_cc-by-3.0.mp4 --exercise squat
  uptrack analyze plank.mp4 --exercise plank --format json
  uptrack analyze squat.mp4 --exercise squat --min-grade B --difficulty hard --export squat.annotated.mp4
  uptrack analyze photo.jpg --overlay photo.pose.png
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from uptrack.contract.errors import ErrorCode, UptrackError
from uptrack.contract.messages import ErrorMessage, ImageOverlayMessage, dump_message
from uptrack.contract.params import AnalysisRequest, parse_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.media import media_kind
from uptrack.pipeline import LocalRun, analyze_path
from uptrack.pose.engine import MODEL_NAMES, EngineSettings

from uptrack_service.cli.commands.reference import LOCAL_OWNER, references_dir
from uptrack_service.cli.output import FORMATS, Output, chosen_format, make_output
from uptrack_service.cli.reference_store import LocalReferenceStore
from uptrack_service.tools.plot import PlotError, PlotRecorder

EXIT_ERROR = 2
FLAGS = {
    "keypoints": "emit a `keypoints` message per analysed frame",
    "angles": "emit the joint angles of each analysed frame",
    "progression": "emit `progression` (how far into the movement) messages",
    "recommendations": "emit coaching `recommendations`",
    "blazepose": "use BlazePose (33 keypoints, slower) instead of MoveNet (17); `--query mediapipeModel=` picks it",
}
VIDEO_ONLY = {"exercise": "--exercise", "reference": "--reference", "min_grade": "--min-grade"}
VIDEO_ONLY_OUTPUTS = {"difficulty": "--difficulty", "export": "--export", "plot": "--plot"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse a video or photo locally",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_request_arguments(parser)
    parser.add_argument("--export", type=Path, metavar="OUT.mp4", help="video: write the annotated video (H.264 MP4)")
    parser.add_argument("--overlay", type=Path, metavar="OUT.png", help="photo: write the picture with the skeleton")
    parser.add_argument("--plot", type=Path, metavar="OUT.png", help="video: the main joint angle with each graded rep")
    parser.add_argument("--owner", default=LOCAL_OWNER, help=f"reference owner (default {LOCAL_OWNER})")
    parser.add_argument("--store", type=Path, help="folder of references/ (default: $UPTRACK_HOME or ~/.uptrack)")
    parser.add_argument("--model", choices=MODEL_NAMES, help="force a pose model (default: as the request says)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per worker (default 1)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel chunk workers")
    parser.set_defaults(func=run)


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The file, the PoseTracker parameters as flags and the output format: what `analyze` and `upload` take."""
    parser.add_argument("path", type=Path, help="a video (mp4, mov, webm, …) or a photo (jpeg, png, …)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--exercise", help="catalogue id, e.g. squat, push_up, plank (`uptrack exercises` lists them)")
    target.add_argument("--reference", help="reference movement id (`uptrack reference create`)")
    parser.add_argument("--source", choices=("video", "image"), help="default: detected from the file")
    parser.add_argument("--min-grade", help="A-D: reps below it are not counted")
    parser.add_argument("--difficulty", help="easy | medium | hard (how deep a rep must go)")
    for flag, text in FLAGS.items():
        parser.add_argument(f"--{flag}", action="store_true", help=text)
    parser.add_argument("--query", default="", help="a raw PoseTracker query string; the flags above override it")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="text (a live line and a summary) or json (one message a line); "
        "default: text in a terminal, json when piped",
    )


def build_request(args: argparse.Namespace) -> AnalysisRequest:
    """Merge `--query` with the flags (flags win) and parse it exactly as the API does (repeats included)."""
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(args.query.lstrip("?"), keep_blank_values=True):
        params.setdefault(name, []).append(value)
    params.setdefault("source", [args.source or _detected_source(args.path)])
    if args.source:
        params["source"] = [args.source]
    named = {
        "exercise": args.exercise,
        "reference": args.reference,
        "minGrade": args.min_grade,
        "difficulty": args.difficulty,
    }
    params.update({key: [value] for key, value in named.items() if value is not None})
    params.update({flag: ["true"] for flag in FLAGS if getattr(args, flag)})
    if getattr(args, "export", None):
        params["export"] = ["true"]
    return parse_query(params, exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())


def _detected_source(path: Path) -> str:
    try:
        return media_kind(path)
    except UptrackError:
        return "video"  # the analysis reports the unreadable file with the right code


def unreadable_path(path: Path) -> UptrackError | None:
    """A missing file and a folder each get their own words, before anything tries to decode them."""
    if path.is_dir():
        return UptrackError(ErrorCode.VIDEO_LOAD_ERROR, f"{path} is a folder: pass a video or photo file.")
    if not path.exists():
        return UptrackError(ErrorCode.VIDEO_LOAD_ERROR, f"No such file: {path}")
    return None


def inapplicable_options(args: argparse.Namespace, request: AnalysisRequest) -> str | None:
    """Options that cannot do anything for this file or request, said instead of silently dropped."""
    given = {flag for name, flag in (VIDEO_ONLY | VIDEO_ONLY_OUTPUTS).items() if getattr(args, name, None)}
    if request.source == "image" and given:
        return f"{', '.join(sorted(given))} cannot apply to a photo (they are for videos)."
    if request.source == "video" and getattr(args, "overlay", None):
        return "--overlay writes a photo's skeleton picture; for a video use --export OUT.mp4."
    if request.export and not getattr(args, "export", None):
        return "export=true needs --export OUT.mp4 to say where to write the annotated video."
    return None


def is_hold(request: AnalysisRequest) -> bool:
    return request.exercise in duration_exercise_ids()


def refuse(output: Output, error: UptrackError) -> int:
    output.show(dump_message(ErrorMessage.from_error(error)))
    output.close({})
    return EXIT_ERROR


def usage_error(command: str, text: str) -> int:
    print(f"uptrack {command}: error: {text}", file=sys.stderr)
    return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    fmt = chosen_format(args.format)
    problem = unreadable_path(args.path)
    if problem is not None:
        return refuse(make_output(fmt, args.path.name), problem)
    plot: PlotRecorder | None = None
    try:
        request = build_request(args)
    except UptrackError as error:
        return refuse(make_output(fmt, args.path.name), error)
    inapplicable = inapplicable_options(args, request)
    if inapplicable:
        return usage_error("analyze", inapplicable)
    if args.plot:
        try:
            plot = PlotRecorder(args.plot, args.path, request)
        except UptrackError as error:
            return refuse(make_output(fmt, args.path.name), error)
        request = plot.request
    output = make_output(fmt, args.path.name, is_hold(request))
    status = _analyse(args, request, output, plot)
    outputs = {name: str(path) for name, path in (("plot", args.plot), ("overlay", args.overlay)) if path}
    if plot is not None and status == 0:
        try:
            plot.write()
        except PlotError as error:
            outputs.pop("plot")
            output.close(outputs)
            print(f"uptrack: {error}", file=sys.stderr)
            return EXIT_ERROR
    output.close(outputs)
    return status


def _analyse(args: argparse.Namespace, request: AnalysisRequest, output: Output, plot: PlotRecorder | None) -> int:
    status = 0
    run = LocalRun(
        settings=EngineSettings(threads=args.threads),
        model=args.model,
        workers=args.workers,
        references=LocalReferenceStore(references_dir(args.store)),
        owner=args.owner,
        export_to=args.export,
    )
    for message in analyze_path(args.path, request, run):
        if isinstance(message, ImageOverlayMessage) and args.overlay:
            args.overlay.write_bytes(base64.b64decode(message.data.split(",", 1)[1]))
        if plot is None or plot.shows(message):
            output.show(dump_message(message))
        status = EXIT_ERROR if isinstance(message, ErrorMessage) else status
    return status
