"""`uptrack_service.cli.client.Subscription` against a scripted WebSocket and HTTP API: out-of-order pushes, a
duplicate, a `message_link` and a message only the HTTP API has still come out in seq order, each once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from uptrack.contract.messages import BaseMessage, InitializationMessage, ProgressMessage
from uptrack.pipeline import COMPLETED
from uptrack_service.cli.client import LINK_TYPE, ClientError, Endpoint, Subscription
from uptrack_service.delivery import wire_of
from websockets.sync.server import ServerConnection, serve

UPLOAD = "0b9f6c4e-8a7d-4c7e-9f51-2f4d3c1b0a99"
TOKEN = "upt_test"
MESSAGES: list[BaseMessage] = [
    InitializationMessage(message="loading video", ready=False, source="video"),
    ProgressMessage(percent=50.0, frames_done=1, frames_total=2),
    ProgressMessage(percent=100.0, frames_done=2, frames_total=2),
    InitializationMessage(message=COMPLETED, ready=True, source="video"),
]
WIRE = [wire_of(message, seq, UPLOAD) for seq, message in enumerate(MESSAGES, start=1)]


class Stack:
    """A WebSocket that pushes `frames` after the subscribe (`"LINK"`: message 2 as a `message_link`), and an HTTP
    API that has every message stored."""

    def __init__(self, frames: list[dict[str, Any] | str]) -> None:
        self.frames = frames
        self.subscribed: list[dict[str, Any]] = []
        stack = self

        class Api(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path == "/link/2":
                    body: Any = WIRE[1]
                else:
                    query = parse_qs(parts.query)
                    assert parts.path == f"/uploads/{UPLOAD}" and query["token"] == [TOKEN]
                    after = int(query["afterSeq"][0])
                    body = {"messages": [w for w in WIRE if w["seq"] > after], "status": "completed"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Api)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"

        def session(connection: ServerConnection) -> None:
            stack.subscribed.append(json.loads(connection.recv()))
            for frame in stack.frames:
                connection.send(json.dumps(link(WIRE[1], f"{stack.url}/link/2") if frame == "LINK" else frame))
            connection.recv()  # hold the socket open until the client closes it

        self.ws = serve(session, "127.0.0.1", 0)
        self.ws_url = f"ws://127.0.0.1:{self.ws.socket.getsockname()[1]}/local?uploadId={UPLOAD}"
        for target in (self.http.serve_forever, self.ws.serve_forever):
            threading.Thread(target=target, daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.ws.shutdown()

    def created(self) -> dict[str, Any]:
        return {"uploadId": UPLOAD, "websocketUrl": self.ws_url, "subscribe": {"action": "subscribe"}}


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    running = Stack(request.param)
    yield running
    running.close()


def link(wire: dict[str, Any], url: str) -> dict[str, Any]:
    return {"type": LINK_TYPE, "messageType": wire["type"], "seq": wire["seq"], "uploadId": UPLOAD, "url": url}


@pytest.mark.parametrize(
    "stack",
    [
        [WIRE[2], WIRE[0], WIRE[0], "LINK", WIRE[3]],  # out of order, a duplicate, a link
        [WIRE[0], WIRE[3]],  # 2 and 3 were never pushed: read back from GET /uploads/{id}
    ],
    indirect=True,
)
def test_messages_come_out_in_seq_order_each_once(stack: Stack) -> None:
    with Subscription(Endpoint(stack.url, TOKEN), stack.created(), timeout_s=30) as subscription:
        received = list(subscription)
    assert received == WIRE
    assert stack.subscribed == [{"action": "subscribe"}]


REFUSED = {"type": "error", "code": "invalid_params", "message": "Too many subscribers"}


@pytest.mark.parametrize("stack", [[REFUSED]], indirect=True)
def test_a_refused_subscription_is_a_client_error_carrying_the_message(stack: Stack) -> None:
    with (
        pytest.raises(ClientError, match="Too many subscribers") as refused,
        Subscription(Endpoint(stack.url, TOKEN), stack.created(), timeout_s=30) as subscription,
    ):
        list(subscription)
    assert refused.value.error == REFUSED
