"""Twelve WebSocket connections each send three `subscribe`s (afterSeq 0) for one finished upload while a
thirteenth connects: prints the stored message count, the frames each flooding connection got back, and how long
the thirteenth handshake took. Runs a `LocalStack` in this process.

    PYTHONPATH=layers/core:layers/service:. .venv/bin/python tests/scripts/subscribe_flood.py
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

from uptrack_service.cli.client import Endpoint, upload_file
from uptrack_service.local.stack import REPO, LocalStack
from websockets.sync.client import connect

from tests.conftest import SAMPLE_VIDEO

FLOODERS = 12
SUBSCRIBES = 3


def main() -> None:
    with LocalStack(REPO, max_concurrency=2) as stack:
        token = stack.create_token()
        query = {"exercise": "squat", "keypoints": "true"}
        messages = list(upload_file(Endpoint(stack.http_url, token), SAMPLE_VIDEO, query, timeout_s=300))
        url = f"{stack.websocket_url}?uploadId={messages[-1]['uploadId']}&token={token}"
        frames: list[int] = []

        def flood() -> None:
            with connect(url, open_timeout=60) as socket_:
                for _ in range(SUBSCRIBES):
                    socket_.send(json.dumps({"action": "subscribe", "afterSeq": 0}))
                received = 0
                with contextlib.suppress(TimeoutError):
                    while True:
                        socket_.recv(timeout=5)
                        received += 1
                frames.append(received)

        threads = [threading.Thread(target=flood) for _ in range(FLOODERS)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        began = time.monotonic()
        with connect(url, open_timeout=60):
            opened = time.monotonic() - began
        for thread in threads:
            thread.join()
        print(f"stored messages {len(messages)}; frames per flooding connection {frames}")
        print(f"a thirteenth connection opened in {opened:.2f} s during the flood")


if __name__ == "__main__":
    main()
