"""`uptrack reference create|list|delete`: reference movements for `uptrack analyze --reference ID`.

`create FILE [--start S] [--end E]` extracts the pose of a clip holding one clean repetition (or of the part of a
clip between S and E seconds), stores its movement signature and prints the new id. References live in
`$UPTRACK_HOME/references/` (default `~/.uptrack/references/`), one JSON document each, owned by `--owner`
(default `local`): `analyze --reference ID` finds only its owner's references, as a token finds only its own.
`list` prints one JSON line per reference (without the signature frames); `delete ID` removes one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Final

from uptrack.chunks import ChunkSpec, analysis_stride, infer_chunk
from uptrack.contract.errors import UptrackError
from uptrack.media import probe_video
from uptrack.pipeline import ANALYSIS_FPS
from uptrack.pose.engine import DEFAULT_MODEL, MODEL_NAMES, EngineSettings, create_estimator
from uptrack.pose.series import PoseSeries
from uptrack.reference.features import SCALE_WINDOW_S
from uptrack.reference.signature import ReferenceMovement, create_reference
from uptrack.smoothing import smooth_series

from uptrack_service.cli.commands.token import default_store_dir
from uptrack_service.cli.reference_store import LocalReferenceStore

LOCAL_OWNER: Final = "local"
"""Owner of references made and used on this machine without a token."""

EXIT_ERROR: Final = 2

CONTEXT_S: Final = SCALE_WINDOW_S + 0.2
"""Seconds decoded around --start/--end: the body's size is measured over a window that reaches past the rep."""


def references_dir(store: Path | None) -> Path:
    """`<store>/references`, the store defaulting to `$UPTRACK_HOME` or `~/.uptrack` like tokens."""
    return (store or default_store_dir()) / "references"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `reference` and its subcommands; each leaf parser sets `func(args) -> int`."""
    reference = subparsers.add_parser("reference", help="create, list and delete reference movements")
    commands = reference.add_subparsers(dest="reference_command", required=True)

    create = commands.add_parser("create", help="make a reference from one repetition; prints its id")
    create.add_argument("path", type=Path, metavar="FILE")
    create.add_argument("--start", type=float, metavar="S", help="seconds where the repetition starts")
    create.add_argument("--end", type=float, metavar="E", help="seconds where the repetition ends")
    create.add_argument("--name", help="a label (default: the file name)")
    create.add_argument("--model", choices=MODEL_NAMES, default=DEFAULT_MODEL, help="pose model")
    create.add_argument("--threads", type=int, default=1, help="onnxruntime threads (default 1)")
    create.set_defaults(func=_create)

    listing = commands.add_parser("list", help="list references (JSON lines)")
    listing.set_defaults(func=_list)

    delete = commands.add_parser("delete", help="delete a reference")
    delete.add_argument("id")
    delete.set_defaults(func=_delete)

    for leaf in (create, listing, delete):
        leaf.add_argument("--owner", default=LOCAL_OWNER, help=f"who owns the references (default {LOCAL_OWNER})")
        leaf.add_argument("--store", type=Path, help="folder of references/ (default: $UPTRACK_HOME or ~/.uptrack)")


def clip_series(path: Path, start_s: float | None, end_s: float | None, settings: EngineSettings) -> PoseSeries:
    """The smoothed pose of [start, end] plus some context, analysed exactly as `analyze` would analyse it."""
    info = probe_video(path)
    first = 0 if start_s is None else max(0, math.floor((start_s - CONTEXT_S) * info.fps))
    stop = info.frame_count if end_s is None else min(info.frame_count, math.ceil((end_s + CONTEXT_S) * info.fps))
    chunk = ChunkSpec(0, first, max(stop, first + 1))
    series = infer_chunk(path, chunk, create_estimator(settings), info, analysis_stride(info.fps, ANALYSIS_FPS))
    return smooth_series(series)


def _create(args: argparse.Namespace) -> int:
    try:
        series = clip_series(args.path, args.start, args.end, EngineSettings(model=args.model, threads=args.threads))
        movement = create_reference(
            series,
            args.owner,
            start_ms=None if args.start is None else 1000.0 * args.start,
            end_ms=None if args.end is None else 1000.0 * args.end,
            name=args.name or args.path.name,
        )
    except UptrackError as error:
        return _fail(error)
    LocalReferenceStore(references_dir(args.store)).put(movement)
    print(movement.id)
    return 0


def _list(args: argparse.Namespace) -> int:
    for movement in LocalReferenceStore(references_dir(args.store)).list_references(args.owner):
        print(json.dumps(summary(movement)))
    return 0


def _delete(args: argparse.Namespace) -> int:
    try:
        LocalReferenceStore(references_dir(args.store)).delete(args.id, args.owner)
    except UptrackError as error:
        return _fail(error)
    print(json.dumps({"deleted": args.id}))
    return 0


def summary(movement: ReferenceMovement) -> dict[str, object]:
    """A reference as `list` prints it: everything but the signature frames, plus its duration."""
    described: dict[str, object] = movement.model_dump(mode="json", exclude={"frames", "features"})
    return {**described, "duration_ms": movement.duration_ms}


def _fail(error: UptrackError) -> int:
    print(f"error: {error.code}: {error.message}", file=sys.stderr)
    return EXIT_ERROR
