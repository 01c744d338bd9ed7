"""`uptrack token create|revoke|list` against a JsonFileTokenStore folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from uptrack.contract.tokens import JsonFileTokenStore, hash_token
from uptrack_service.cli.commands import token as token_command


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]], str]:
    parser = argparse.ArgumentParser(prog="uptrack")
    token_command.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UPTRACK_HOME", str(tmp_path))
    return tmp_path


def test_create_prints_the_token_once_and_stores_only_its_hash(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(["token", "create", "--owner", "ana", "--plan", "developer"], capsys)
    assert code == 0 and len(lines) == 1
    raw = str(lines[0]["token"])
    assert lines[0]["plan"] == "developer" and lines[0]["monthly_quota"] == 5000 and "token_hash" not in lines[0]
    assert raw not in (home / "tokens.json").read_text()
    assert JsonFileTokenStore(home / "tokens.json").get(hash_token(raw)) is not None


def test_create_with_quota_and_explicit_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_dir = tmp_path / "elsewhere"
    code, lines, _ = run(
        ["token", "create", "--owner", "b", "--plan", "free", "--quota", "3", "--store", str(store_dir)], capsys
    )
    assert code == 0 and lines[0]["monthly_quota"] == 3
    assert (store_dir / "tokens.json").exists()


def test_negative_quota_is_refused(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(["token", "create", "--owner", "b", "--plan", "free", "--quota", "-1"], capsys)
    assert code == 2 and lines == [] and "--quota" in err


def test_list_never_prints_secrets(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, created, _ = run(["token", "create", "--owner", "ana", "--plan", "free"], capsys)
    run(["token", "create", "--owner", "bob", "--plan", "business"], capsys)
    code, lines, _ = run(["token", "list"], capsys)
    assert code == 0 and [line["owner"] for line in lines] == ["ana", "bob"]
    assert all("token" not in line and "token_hash" not in line for line in lines)
    _, only_bob, _ = run(["token", "list", "--owner", "bob"], capsys)
    assert [line["plan"] for line in only_bob] == ["business"]
    assert str(created[0]["token"]) not in json.dumps(lines)


@pytest.mark.parametrize("by", ["token", "token_id"])
def test_revoke_by_value_or_prefix(home: Path, capsys: pytest.CaptureFixture[str], by: str) -> None:
    _, created, _ = run(["token", "create", "--owner", "ana", "--plan", "free"], capsys)
    code, lines, _ = run(["token", "revoke", str(created[0][by])], capsys)
    assert code == 0 and lines == [{"revoked": created[0]["token_id"]}]
    record = JsonFileTokenStore(home / "tokens.json").get(hash_token(str(created[0]["token"])))
    assert record is not None and record.revoked


def test_revoke_unknown_or_ambiguous_prefix_fails(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(["token", "create", "--owner", "a", "--plan", "free"], capsys)
    run(["token", "create", "--owner", "b", "--plan", "free"], capsys)
    assert run(["token", "revoke", "upt_"], capsys)[0] == 1
    code, _, err = run(["token", "revoke", "zzz"], capsys)
    assert code == 1 and "no token matches" in err
