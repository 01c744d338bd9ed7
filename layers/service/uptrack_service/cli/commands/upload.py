"""`uptrack upload FILE`: send a file to an uptrack stack the way the mobile app does, and print its messages.

POST /uploads, PUT to the presigned URL, subscribe on the WebSocket; every message is printed as one JSON line on
stdout (in `seq` order, each once) with a progress bar on stderr, and the command exits after the final message:
0, or 2 when the analysis ended in an `error`. `--endpoint` defaults to the running `uptrack serve` (and the
token to its development token); against a deployed stack pass its HTTP API URL and your token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from urllib.parse import parse_qsl

from uptrack.contract.errors import UptrackError
from uptrack.contract.messages import ErrorMessage, dump_message
from uptrack.contract.params import to_query

from uptrack_service.cli.client import ClientError, Endpoint, LocalStackInfo, upload_file
from uptrack_service.cli.commands.analyze import ProgressBar, add_request_arguments, build_request

EXIT_ERROR = 2
TOKEN_ENV = "UPTRACK_TOKEN"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "upload", help="upload a file to a stack and print its messages", description=__doc__
    )
    add_request_arguments(parser)
    parser.add_argument("--query", default="", help="a raw PoseTracker query string; flags above override it")
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
    progress = ProgressBar()
    try:
        params = dict(parse_qsl(to_query(build_request(args))))
    except UptrackError as error:
        _print(dump_message(ErrorMessage.from_error(error)))
        return EXIT_ERROR
    status = 0
    try:
        for wire in upload_file(endpoint_of(args), args.path, params, args.timeout):
            if wire.get("type") == "progress":
                progress.update(float(wire["percent"]))
            _print(wire)
            status = EXIT_ERROR if wire.get("type") == "error" else status
    except ClientError as error:
        progress.close()
        if error.error is not None:
            _print(error.error)
        print(f"uptrack: {error}", file=sys.stderr)
        return EXIT_ERROR
    progress.close()
    return status


def _print(wire: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(wire, separators=(",", ":"), ensure_ascii=False) + "\n")
    sys.stdout.flush()
