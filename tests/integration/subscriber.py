"""A WebSocket subscriber as a client app would write one: subscribe, de-duplicate by seq, resolve links."""

from __future__ import annotations

import json
import threading
import urllib.request
from typing import Any

from websockets.sync.client import connect

FINAL_MESSAGE = "Analysis completed"


def is_final(message: dict[str, Any]) -> bool:
    if message.get("type") == "error":
        return True
    return (
        message.get("type") == "initialization"
        and message.get("ready") is True
        and message.get("message") == FINAL_MESSAGE
    )


def resolve(message: dict[str, Any]) -> dict[str, Any]:
    """A `message_link` (message over the WebSocket frame limit) replaced by the message it points to."""
    if message.get("type") != "message_link":
        return message
    with urllib.request.urlopen(message["url"], timeout=30) as response:
        full: dict[str, Any] = json.load(response)
    assert full["seq"] == message["seq"] and full["type"] == message["messageType"]
    return full


class Subscriber:
    """Collects an upload's messages on a real socket until the final one and every one before it (de-duplicated
    by seq, like an app); `frames` keeps raw arrival order."""

    def __init__(self, url: str, after_seq: int = 0) -> None:
        self.url = url
        self.after_seq = after_seq
        self.frames: list[dict[str, Any]] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self.duplicates = 0
        self.done = threading.Event()
        self.error: BaseException | None = None
        self._subscribed = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Subscriber:
        self._thread.start()
        if not self._subscribed.wait(30):
            raise TimeoutError("could not subscribe")
        if self.error is not None:
            raise self.error
        return self

    def _run(self) -> None:
        try:
            with connect(self.url, open_timeout=30) as socket:
                socket.send(json.dumps({"action": "subscribe", "afterSeq": self.after_seq}))
                self._subscribed.set()
                final = 0
                while True:
                    frame = json.loads(socket.recv(timeout=180))
                    self.frames.append(frame)
                    seq = int(frame["seq"])
                    if seq in self.messages:
                        self.duplicates += 1
                        continue
                    self.messages[seq] = resolve(frame)
                    if is_final(self.messages[seq]):
                        final = seq
                    # done at the final message and every seq before it: a replayed stage may arrive after live ones
                    if final and all(s in self.messages for s in range(self.after_seq + 1, final)):
                        return
        except BaseException as exc:  # reported to the test thread
            self.error = exc
        finally:
            self._subscribed.set()
            self.done.set()

    def wait(self, timeout_s: float) -> list[dict[str, Any]]:
        if not self.done.wait(timeout_s):
            raise TimeoutError(f"no final message after {timeout_s} s")
        if self.error is not None:
            raise self.error
        return [self.messages[seq] for seq in sorted(self.messages)]
