"""`uptrack serve`: the whole application on this machine, without an AWS account.

template.yaml's resources are created in moto (S3, DynamoDB, EventBridge, Step Functions executing the real state
machine), the real handlers run from source, and the HTTP API, a WebSocket API and its management endpoint listen
locally (`uptrack_service.local.stack.LocalStack`). `/` serves a page to upload a video and watch its messages.

A development token (developer plan, every feature) is kept in `$UPTRACK_HOME/dev-token` (default `~/.uptrack`) and
reused on each start; every token of `uptrack token create` works too, and `token create|revoke` take effect at
once (the stack reads `$UPTRACK_HOME/tokens.json` on every request and counts usage there). The URLs and the token
are printed and written to `$UPTRACK_HOME/local-stack.json`, where `uptrack upload` finds them.

Safe on a LAN (`--host 0.0.0.0`): the page hands the development token only to a browser on this machine that
names it 127.0.0.1/localhost (others paste a token), requests naming any other host than the published one (or
`--allow-host`) are refused, and moto listens on loopback behind credentials minted per run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Final

from uptrack.contract.plans import Plan
from uptrack.contract.tokens import JsonFileTokenStore, hash_token, new_record

from uptrack_service.api.web_page import CONFIG_FILE, page_config, read_web_file
from uptrack_service.cli.client import LocalStackInfo
from uptrack_service.cli.commands.token import TOKENS_FILE, default_store_dir

DEV_TOKEN_FILE: Final = "dev-token"
DEV_OWNER: Final = "local-development"
DEV_QUOTA: Final = 1_000_000
LOCAL_PAGE_FILES: Final = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
"""The local page at `/`; the hosted Upload Tracking page, the scripts both load and `config.json` are the
template's WebPageFunction routes, served through the stack like on AWS."""
WILDCARDS: Final = frozenset({"", "0.0.0.0", "::"})
SWEEP_EVERY_S: Final = 5.0
"""How often a finished upload's media and work files are deleted (they live in this process's memory)."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("serve", help="run the whole stack locally (moto, no AWS)", description=__doc__)
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on; 0.0.0.0 lets a phone on this network in"
    )
    parser.add_argument("--public-host", help="name clients use in URLs (default: --host; this machine's LAN address)")
    parser.add_argument("--port", type=int, default=8080, help="HTTP API and web page port; 0 picks a free one")
    parser.add_argument("--concurrency", type=int, default=4, help="chunks analysed at once per upload (default 4)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name clients may use for this machine (repeatable); any other Host header is refused",
    )
    parser.set_defaults(func=run)


def development_token(home: Path, now: datetime) -> str:
    """The development token: minted on first use (or after a revoke) into `home/tokens.json`, kept in `home`."""
    store = JsonFileTokenStore(home / TOKENS_FILE)
    saved = home / DEV_TOKEN_FILE
    raw = saved.read_text(encoding="utf-8").strip() if saved.is_file() else ""
    record = store.get(hash_token(raw)) if raw else None
    if record is None or record.revoked:
        raw, record = new_record(DEV_OWNER, Plan.DEVELOPER, DEV_QUOTA, now)
        store.put(record)
        saved.touch(mode=0o600)
        saved.write_text(raw + "\n", encoding="utf-8")
    return raw


def public_address(host: str) -> str:
    """What clients dial for `host`: itself, or for a wildcard this machine's address on its default route."""
    if host not in WILDCARDS:
        return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: only a route is looked up, nothing is sent
        except OSError:
            return "127.0.0.1"
        return str(probe.getsockname()[0])


Page = tuple[str, bytes]


def web_pages(token: str) -> tuple[dict[str, Page], dict[str, Page]]:
    """Path → (content type, body) of the local page's own files; and the `config.json` a browser on this machine
    gets instead of the public one, which also carries the development token."""
    pages = {f"/{name}": (kind, read_web_file(name).encode("utf-8")) for name, kind in LOCAL_PAGE_FILES.items()}
    pages["/"] = pages["/index.html"]
    local_config = json.dumps(page_config() | {"token": token}).encode("utf-8")
    return pages, {f"/{CONFIG_FILE}": ("application/json", local_config)}


def run(args: argparse.Namespace) -> int:
    from uptrack_service.local.janitor import limit_malloc_arenas  # deferred: boto3 and moto load here
    from uptrack_service.local.stack import LocalStack

    began = time.monotonic()
    limit_malloc_arenas()
    home = default_store_dir()
    token = development_token(home, datetime.now(UTC))
    pages, local_pages = web_pages(token)
    stack = LocalStack(
        host=args.host,
        public_host=args.public_host or public_address(args.host),
        http_port=args.port,
        max_concurrency=args.concurrency,
        pages=pages,
        local_pages=local_pages,
        allowed_hosts=args.allow_host,
        tokens_file=home / TOKENS_FILE,
        events_tap=False,
        sweep_every_s=SWEEP_EVERY_S,
    )
    try:
        stack.start()
    except OSError as error:
        stack.stop()
        print(f"uptrack: cannot serve on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 2
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    info = LocalStackInfo(stack.http_url, stack.websocket_url, token, os.getpid())
    try:
        info.write()
        _banner(info, home, time.monotonic() - began)
        stopping.wait()
    finally:
        info.remove()
        stack.stop()
    _leave_running_work()
    return 0


def _leave_running_work() -> None:
    """Exit now when analyses are still running: their uploads lived in the stack's memory and are gone, and
    letting the interpreter wait for their threads (or finalise under their native code) could take minutes or
    abort the process."""
    if threading.active_count() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _banner(info: LocalStackInfo, home: Path, seconds: float) -> None:
    print(
        f"uptrack is serving the whole stack locally (moto; no AWS account), ready in {seconds:.1f} s\n"
        f"  web page, HTTP API  {info.base_url}/\n"
        f"  WebSocket           {info.websocket_url}\n"
        f"  development token   {info.token}  (developer plan; {home / DEV_TOKEN_FILE})\n"
        f"  tokens              {home / TOKENS_FILE} (uptrack token create|revoke|list act at once)\n"
        f"uploads live in memory: they are gone when this server stops\n"
        f"try: uptrack upload samples/squat_rear_2reps_cc-by-3.0.mp4 --exercise squat\n"
        f"Ctrl-C stops it.",
        flush=True,
    )
