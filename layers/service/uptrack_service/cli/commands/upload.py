"""`uptrack upload FILE`: send a file to an uptrack stack the way the mobile app does, and show its messages.

POST /uploads, PUT to the presigned URL, subscribe on the WebSocket; the messages arrive in `seq` order, each once,
and the command exits after the final one: 0, or 2 when the analysis ended in an `error`. In a terminal it shows a
live line and a summary; piped (or `--format json`) one JSON line per message. `--endpoint` defaults to the
running `uptrack serve` (and the token to its development token); against a deployed stack pass its HTTP API URL
and your token.

examples:
  uptrack upload samples/squat_rear_2reps_cc-by-3.0.mp4 --exercise squat
  uptrack upload clip.mp4 --exercise plank --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com --token T
"""

from __future__ import annotations

import argparse
import os
import sys
from urllib.parse import parse_qsl

from uptrack.contract.errors import UptrackError
from uptrack.contract.params import to_query

from uptrack_service.cli.client import ClientError, Endpoint, LocalStackInfo, upload_file
from uptrack_service.cli.commands.analyze import (
    add_request_arguments,
    build_request,
    inapplicable_options,
    is_hold,
    refuse,
    unreadable_path,
    usage_error,
)
from uptrack_service.cli.output import chosen_format, make_output

EXIT_ERROR = 2
TOKEN_ENV = "UPTRACK_TOKEN"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "upload",
        help="upload a file to a stack and show its messages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_request_arguments(parser)
    parser.add_argument("--endpoint", help="the stack's HTTP API URL (default: the running `uptrack serve`)")
    parser.add_argument("--token", help=f"API token (default: ${TOKEN_ENV}, else the local stack's development token)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the final message")
    parser.set_defaults(func=run, export=None)


def endpoint_of(args: argparse.Namespace) -> Endpoint:
    """--endpoint and --token; by default the running `uptrack serve` and, for it only, its development token."""
    token = args.token or os.environ.get(TOKEN_ENV)
    local = LocalStackInfo.read()
    endpoint = args.endpoint or (local.base_url if local else None)
    if endpoint is None:
        raise ClientError("no local stack is running: start `uptrack serve`, or pass --endpoint URL")
    if token is None and local is not None and endpoint.rstrip("/") == local.base_url:
        token = local.token
    if token is None:
        raise ClientError(f"no token: pass --token or set ${TOKEN_ENV}")
    return Endpoint(endpoint, token)


def run(args: argparse.Namespace) -> int:
    fmt = chosen_format(args.format)
    problem = unreadable_path(args.path)
    if problem is not None:
        return refuse(make_output(fmt, args.path.name), problem)
    try:
        request = build_request(args)
    except UptrackError as error:
        return refuse(make_output(fmt, args.path.name), error)
    inapplicable = inapplicable_options(args, request)
    if inapplicable:
        return usage_error("upload", inapplicable)
    params = dict(parse_qsl(to_query(request)))
    output = make_output(fmt, args.path.name, is_hold(request))
    status = 0
    try:
        for wire in upload_file(endpoint_of(args), args.path, params, args.timeout):
            output.show(wire)
            status = EXIT_ERROR if wire.get("type") == "error" else status
    except ClientError as error:
        if error.error is not None:
            output.show(error.error)
        output.close({})
        if error.error is None or fmt == "json":
            print(f"uptrack: {error}", file=sys.stderr)
        return EXIT_ERROR
    output.close({})
    return status
