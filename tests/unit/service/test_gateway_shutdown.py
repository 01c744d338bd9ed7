"""The local WebSocket gateway stops within seconds whatever its clients do.

`uptrack serve` must exit soon after Ctrl-C/SIGTERM. A fresh-clone `make test` once saw it take over 15 s: the
gateway's shutdown waited for every client's closing handshake (websockets' close timeout) and for their
`$disconnect` handlers. A client that has stopped reading never answers, so it is cut after a short grace.
"""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from uptrack_service.local.gateway import WebSocketGateway


def _invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200}


@pytest.fixture
def gateway() -> Iterator[WebSocketGateway]:
    running = WebSocketGateway(_invoke, "Connect", "Disconnect", {"subscribe": "Subscribe", "$default": "Subscribe"})
    running.start()
    yield running
    running.stop()  # idempotent: the tests stop it themselves


def _silent_client(gateway: WebSocketGateway) -> socket.socket:
    """A client that completes the opening handshake and then neither reads nor answers anything."""
    client = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    client.sendall(
        (
            f"GET /{gateway.stage}?uploadId=u HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode("ascii")
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += client.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return client


def test_stop_cuts_clients_that_do_not_answer_the_closing_handshake(gateway: WebSocketGateway) -> None:
    clients = [_silent_client(gateway) for _ in range(3)]
    began = time.monotonic()
    gateway.stop()
    took = time.monotonic() - began
    assert took < 4.0, f"the gateway took {took:.1f} s to stop"  # it took 5.5 s: the close timeout, 5 s
    for client in clients:
        client.settimeout(5)
        received = b""
        while chunk := client.recv(4096):  # the close frame (1001), then the connection ends
            received += chunk
        assert received[:1] == b"\x88"  # a close frame came first: going away, not a reset
        client.close()


def test_stop_with_no_client_is_quick(gateway: WebSocketGateway) -> None:
    began = time.monotonic()
    gateway.stop()
    assert time.monotonic() - began < 2.0
    assert not any(thread.name == "websocket-gateway" and thread.is_alive() for thread in threading.enumerate())
