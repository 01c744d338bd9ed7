"""`uptrack token create|revoke|list`: manage API tokens for a self-hosted uptrack.

Tokens go to `$UPTRACK_HOME/tokens.json` (default `~/.uptrack`) through `JsonFileTokenStore`, or to a deployed
stack's DynamoDB table with `--table`. Output is JSON lines so scripts can consume it; the raw token is printed
once, by `create`, and never stored. `uptrack serve` reads the same file on every request, so a token created or
revoked here acts at once, and `list` shows the usage it counted (`usage` per month, `used_this_month`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from uptrack.contract.plans import DEFAULT_MONTHLY_QUOTAS, Plan
from uptrack.contract.tokens import (
    TOKEN_ID_CHARS,
    JsonFileTokenStore,
    TokenRecord,
    TokenStore,
    hash_token,
    month_key,
    new_record,
    token_id,
)

TOKENS_FILE: Final = "tokens.json"


def default_store_dir() -> Path:
    """`$UPTRACK_HOME`, else `~/.uptrack`: the same folder the local stack reads."""
    return Path(os.environ.get("UPTRACK_HOME") or Path.home() / ".uptrack")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `token` and its subcommands; each leaf parser sets `func(args) -> int`."""
    token = subparsers.add_parser("token", help="create, revoke and list API tokens")
    commands = token.add_subparsers(dest="token_command", required=True)

    create = commands.add_parser("create", help="mint a token; prints it once")
    create.add_argument("--owner", required=True, help="who the token belongs to (e.g. an email)")
    create.add_argument("--plan", required=True, choices=[p.value for p in Plan])
    create.add_argument("--quota", type=int, help="API calls per month (default: the plan's)")
    create.set_defaults(func=_create)

    revoke = commands.add_parser("revoke", help="revoke a token by its value or display prefix")
    revoke.add_argument("token", metavar="TOKEN_OR_PREFIX")
    revoke.set_defaults(func=_revoke)

    listing = commands.add_parser("list", help="list tokens (never their values)")
    listing.add_argument("--owner", help="only this owner's tokens")
    listing.set_defaults(func=_list)

    for leaf in (create, revoke, listing):
        leaf.add_argument("--store", type=Path, help="folder of tokens.json (default: $UPTRACK_HOME or ~/.uptrack)")
        leaf.add_argument("--table", help="use this DynamoDB table instead of the local file")


def _store(args: argparse.Namespace) -> TokenStore:
    if args.table:
        import boto3  # deferred: only the DynamoDB path needs the AWS SDK

        from uptrack_service.adapters.dynamodb_tokens import DynamoDbTokenStore

        return DynamoDbTokenStore(boto3.client("dynamodb"), args.table)
    return JsonFileTokenStore((args.store or default_store_dir()) / TOKENS_FILE)


def _public(record: TokenRecord) -> dict[str, Any]:
    """A record as printed: everything but the hash, which only matters to stores, plus this month's usage."""
    used = record.usage.get(month_key(datetime.now(UTC)), 0)
    return record.model_dump(mode="json", exclude={"token_hash"}) | {"used_this_month": used}


def _create(args: argparse.Namespace) -> int:
    plan = Plan(args.plan)
    quota = DEFAULT_MONTHLY_QUOTAS[plan] if args.quota is None else args.quota
    if quota < 0:
        print("error: --quota must be >= 0", file=sys.stderr)
        return 2
    raw, record = new_record(args.owner, plan, quota, datetime.now(UTC))
    _store(args).put(record)
    print(json.dumps({"token": raw, **_public(record)}))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    store = _store(args)
    value: str = args.token
    if len(value) > TOKEN_ID_CHARS and store.revoke(hash_token(value)):
        print(json.dumps({"revoked": token_id(value)}))
        return 0
    matches = [r for r in store.list_tokens() if r.token_id.startswith(value)]
    if len(matches) != 1:
        problem = "no token matches" if not matches else f"{len(matches)} tokens match"
        print(f"error: {problem} {value!r}", file=sys.stderr)
        return 1
    store.revoke(matches[0].token_hash)
    print(json.dumps({"revoked": matches[0].token_id}))
    return 0


def _list(args: argparse.Namespace) -> int:
    for record in _store(args).list_tokens(args.owner):
        print(json.dumps(_public(record)))
    return 0
