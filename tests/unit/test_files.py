"""`write_text_atomic`: what `uptrack serve` writes for its clients (local-stack.json, with a token in it), the
token store and the reference store must never be read half-written, nor be readable by other users."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from uptrack.files import write_text_atomic
from uptrack_service.cli.client import LocalStackInfo


def test_a_reader_polling_the_file_sees_a_whole_document_every_time(tmp_path: Path) -> None:
    path = tmp_path / "local-stack.json"
    documents = [json.dumps({"n": n, "pad": "x" * 200_000}) for n in range(40)]
    seen: list[str] = []
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            if path.exists():
                seen.append(path.read_text(encoding="utf-8"))

    reader = threading.Thread(target=read_until_done)
    reader.start()
    for document in documents:
        write_text_atomic(path, document)
    done.set()
    reader.join()
    assert seen, "the reader never saw the file"
    assert all(text in documents for text in seen)  # never empty, never a prefix
    assert [p.name for p in tmp_path.iterdir()] == ["local-stack.json"]  # no temporary file left behind


def test_the_local_stack_file_is_the_owners_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPTRACK_HOME", str(tmp_path))
    LocalStackInfo("http://127.0.0.1:1", "ws://127.0.0.1:1/local", "upt_secret", 1).write()
    path = tmp_path / LocalStackInfo.FILE
    assert path.stat().st_mode & 0o077 == 0
    assert LocalStackInfo.read() == LocalStackInfo("http://127.0.0.1:1", "ws://127.0.0.1:1/local", "upt_secret", 1)
