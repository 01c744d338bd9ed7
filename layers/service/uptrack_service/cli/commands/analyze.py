"""`uptrack analyze PATH`: analyse a local video or photo and print the contract's messages as JSON lines.

stdout carries exactly one message per line (pipe it into `jq`); stderr carries a progress bar.
`--reference ID` counts and scores repetitions of a movement made with `uptrack reference create`; `--export
OUT.mp4` writes the annotated H.264 video and announces it with `export_ready` (a file:// URL).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl

from uptrack.contract.errors import UptrackError
from uptrack.contract.messages import BaseMessage, ErrorMessage, ImageOverlayMessage, ProgressMessage, dump_message
from uptrack.contract.params import AnalysisRequest, parse_query
from uptrack.exercises.catalogue import duration_exercise_ids, exercise_ids
from uptrack.media import media_kind
from uptrack.pipeline import analyze_path
from uptrack.pose.engine import MODEL_NAMES, EngineSettings

from uptrack_service.adapters.local_references import LocalReferenceStore
from uptrack_service.cli.commands.reference import LOCAL_OWNER, references_dir
from uptrack_service.tools.plot import PlotError, PlotRecorder

EXIT_ERROR = 2
FLAGS = ("keypoints", "angles", "progression", "recommendations", "blazepose")


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("analyze", help="analyse a video or photo locally", description=__doc__)
    add_request_arguments(parser)
    parser.add_argument("--export", type=Path, metavar="OUT.mp4", help="write the annotated video (H.264 MP4)")
    parser.add_argument("--owner", default=LOCAL_OWNER, help=f"reference owner (default {LOCAL_OWNER})")
    parser.add_argument("--store", type=Path, help="folder of references/ (default: $UPTRACK_HOME or ~/.uptrack)")
    parser.add_argument("--overlay", type=Path, metavar="OUT.png", help="image mode: write the overlay picture")
    parser.add_argument("--plot", type=Path, metavar="OUT.png", help="draw the main joint angle with each graded rep")
    parser.add_argument("--query", default="", help="a raw PoseTracker query string; flags above override it")
    parser.add_argument("--model", choices=MODEL_NAMES, help="force a pose model (default: as the request says)")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per worker (default 1)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel chunk workers")
    parser.set_defaults(func=run)


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    """The file and the PoseTracker parameters as flags: what `analyze` and `upload` both take."""
    parser.add_argument("path", type=Path)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--exercise", help="catalogue id, e.g. squat, push_up, plank")
    target.add_argument("--reference", help="reference movement id")
    parser.add_argument("--source", choices=("video", "image"), help="default: detected from the file")
    parser.add_argument("--min-grade", help="A-D: reps below it are not counted")
    parser.add_argument("--difficulty", help="easy | medium | hard")
    for flag in FLAGS:
        parser.add_argument(f"--{flag}", action="store_true", help=f"emit {flag}" if flag != "blazepose" else None)


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
    if args.export:
        params["export"] = ["true"]
    return parse_query(params, exercise_ids=exercise_ids(), duration_exercise_ids=duration_exercise_ids())


def _detected_source(path: Path) -> str:
    try:
        return media_kind(path)
    except UptrackError:
        return "video"  # the analysis reports the unreadable file with the right code


def run(args: argparse.Namespace) -> int:
    progress = ProgressBar()
    plot: PlotRecorder | None = None
    try:
        request = build_request(args)
        if args.plot:
            plot = PlotRecorder(args.plot, args.path, request)
            request = plot.request
    except UptrackError as error:
        return _emit(ErrorMessage.from_error(error), progress, args)
    status = 0
    for message in analyze_path(
        args.path,
        request,
        EngineSettings(threads=args.threads),
        model=args.model,
        workers=args.workers,
        references=LocalReferenceStore(references_dir(args.store)),
        owner=args.owner,
        export_to=args.export or Path(f"{args.path.stem}.uptrack.mp4"),
    ):
        if plot is None or plot.shows(message):
            status = max(status, _emit(message, progress, args))
    progress.close()
    try:
        if plot is not None:
            plot.write()
    except PlotError as error:
        print(f"uptrack: {error}", file=sys.stderr)
        return EXIT_ERROR
    return status


def _emit(message: BaseMessage, progress: ProgressBar, args: argparse.Namespace) -> int:
    if isinstance(message, ProgressMessage):
        progress.update(message.percent)
    if isinstance(message, ImageOverlayMessage) and args.overlay:
        _write_overlay(message, args.overlay)
    sys.stdout.write(json.dumps(dump_message(message), separators=(",", ":")) + "\n")
    sys.stdout.flush()
    return EXIT_ERROR if isinstance(message, ErrorMessage) else 0


def _write_overlay(message: ImageOverlayMessage, path: Path) -> None:
    path.write_bytes(base64.b64decode(message.data.split(",", 1)[1]))


class ProgressBar:
    """A one-line bar on stderr, only when stderr is a terminal (logs stay clean)."""

    WIDTH = 30

    def __init__(self) -> None:
        self.active = sys.stderr.isatty()

    def update(self, percent: float) -> None:
        if self.active:
            filled = round(self.WIDTH * percent / 100)
            sys.stderr.write(f"\ranalysing [{'#' * filled}{'.' * (self.WIDTH - filled)}] {percent:5.1f}%")
            sys.stderr.flush()

    def close(self) -> None:
        if self.active:
            sys.stderr.write("\n")
