"""The `uptrack` command: analyze, serve, upload, exercises, reference, token.

Every subcommand lives in `uptrack_service.cli.commands.<name>` and registers itself with `add_parser`. They are
imported when the parser is built, not with this module: the process that starts the analysis workers (the
multiprocessing fork server) first imports the program's main module (this one, through the `uptrack` script),
and the workers need none of the subcommands (0.4 s before the first frame is analysed).
Failures print one contract `error` message (or one line on stderr), never a traceback; a mistyped option gets
the subcommand's own usage and the closest option it has.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

EXIT_FAILURE = 2
EXAMPLES = """\
examples:
  uptrack analyze samples/squat_rear_2reps_cc-by-3.0.mp4 --exercise squat
  uptrack analyze clip.mp4 --exercise plank --format json | jq -c 'select(.type=="counter")'
  uptrack analyze clip.mp4 --exercise push_up --export annotated.mp4 --plot angles.png
  uptrack analyze photo.jpg --overlay pose.png
  uptrack serve                     # the whole stack locally; open the printed page
  uptrack upload clip.mp4 --exercise squat
  uptrack exercises                 # every id with what it counts

exercises (`uptrack exercises` for aliases, views and what each measures):
"""


def package_version() -> str:
    try:
        return version("uptrack")
    except PackageNotFoundError:  # running from a source checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    from uptrack_service.cli.commands import analyze, exercises, reference, serve, token, upload

    parser = argparse.ArgumentParser(
        prog="uptrack",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=EXAMPLES + exercises.id_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--debug", action="store_true", help="show internal errors with their traceback")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in (analyze, serve, upload, exercises, reference, token):
        command.add_parser(subparsers)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        if isinstance(action, argparse._SubParsersAction):
            chosen: argparse.ArgumentParser = action.choices[command]
            return chosen
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse; an unknown option is reported by the subcommand it was given to, with the option it resembles."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        owner = _subparser(parser, args.command)
        options = [o for action in owner._actions for o in action.option_strings if o.startswith("--")]
        flag = unknown[0].split("=", 1)[0]
        close = difflib.get_close_matches(flag, options, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        owner.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse(parser, argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, stream=sys.stderr)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `uptrack analyze … | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 141
    except Exception as exc:  # the last net: a user sees one line, --debug shows the rest
        if args.debug:
            raise
        print(f"uptrack: internal error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return code


if __name__ == "__main__":
    sys.exit(main())
