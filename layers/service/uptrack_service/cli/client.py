"""The mobile app's side of the protocol, for `uptrack upload`, the tests and anyone scripting a stack.

One upload is: `POST /uploads?{PoseTracker query}` with `{contentType, contentLength}`; a WebSocket to the
returned `websocketUrl` (plus `&token=`) and a `subscribe` frame; the `PUT` of the file to the presigned URL;
then messages until the final one (`Analysis completed`, or an `error`). Subscribing before the PUT means every
message is pushed live; `subscribe` replays anything stored anyway, so the order only changes latency.

Messages carry a per-upload `seq`. Stages finished by parallel workers can be pushed out of order, and a retried
stage can be pushed twice, so `Subscription` hands messages out in `seq` order, each once, and fills a gap it
still has when the final message arrives from `GET /uploads/{id}?afterSeq=`. A `message_link` (a message too big
for one WebSocket frame) is replaced by the message it points at. Works the same against `uptrack serve` and a
deployed stack: only the endpoint and the token differ.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Final, Self
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from pydantic import ValidationError
from uptrack.contract.messages import parse_message
from uptrack.files import write_text_atomic
from uptrack.pipeline import is_final
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from uptrack_service.cli.commands.token import default_store_dir

Wire = dict[str, Any]

LINK_TYPE: Final = "message_link"
HTTP_TIMEOUT_S: Final = 60.0
IDLE_POLL_S: Final = 10.0
"""Without a frame for this long, ask `GET /uploads/{id}` (a lost push never stalls a client for good)."""
GAP_POLL_S: Final = 0.25
GAP_WAIT_S: Final = 10.0
"""How long a message before the final one may stay missing (a failing upload's other workers may still write)."""


class ClientError(Exception):
    """The stack could not be reached or refused the upload: one line for the user, maybe a contract error."""

    def __init__(self, message: str, error: Wire | None = None) -> None:
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class LocalStackInfo:
    """What a running `uptrack serve` tells local clients, in `$UPTRACK_HOME/local-stack.json`."""

    base_url: str
    websocket_url: str
    token: str
    pid: int

    FILE: ClassVar[str] = "local-stack.json"

    @classmethod
    def path(cls) -> Path:
        return default_store_dir() / cls.FILE

    @classmethod
    def read(cls) -> LocalStackInfo | None:
        try:
            loaded = json.loads(cls.path().read_text(encoding="utf-8"))
            return cls(loaded["baseUrl"], loaded["websocketUrl"], loaded["token"], int(loaded["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self) -> None:
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"baseUrl": self.base_url, "websocketUrl": self.websocket_url, "token": self.token, "pid": self.pid}
        write_text_atomic(path, json.dumps(document, indent=2) + "\n")  # a client polling for it never reads half

    def remove(self) -> None:
        """Delete the file if it still describes this server (a newer `serve` may have replaced it)."""
        if self.read() == self:
            self.path().unlink(missing_ok=True)


@dataclass(frozen=True)
class Endpoint:
    """A stack's HTTP API base URL and the API token used for it."""

    base_url: str
    token: str

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url.rstrip('/')}{path}{query}"


def content_type_of(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "video/mp4"


def request_json(method: str, url: str, body: Wire | None = None) -> Wire:
    """One JSON call; a refusal raises ClientError carrying the contract error when the body is one."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = Request(url, data=data, method=method, headers=headers)
    try:
        with urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            loaded: Wire = json.loads(response.read() or b"{}")
            return loaded
    except HTTPError as error:
        raise _refusal(error) from None
    except (URLError, OSError) as error:
        raise ClientError(f"cannot reach {url.split('?', 1)[0]}: {_reason(error)}") from None


def _refusal(error: HTTPError) -> ClientError:
    try:
        body = json.loads(error.read())
    except (ValueError, OSError):
        body = None
    if isinstance(body, dict) and body.get("type") == "error":
        return ClientError(f"HTTP {error.code}: {body.get('message', '')}", body)
    return ClientError(f"HTTP {error.code} from {error.url.split('?', 1)[0]}")


def _reason(error: Exception) -> str:
    return str(getattr(error, "reason", None) or error)


def create_upload(endpoint: Endpoint, path: Path, params: Mapping[str, str]) -> Wire:
    """POST /uploads: the upload id, the presigned PUT and where to listen."""
    query = {**params, "token": endpoint.token}
    body = {"contentType": content_type_of(path), "contentLength": path.stat().st_size}
    return request_json("POST", endpoint.url("/uploads", query), body)


def put_media(created: Wire, path: Path) -> None:
    """PUT the file to the presigned URL with exactly the headers the signature covers."""
    target = created.get("upload")
    if not isinstance(target, dict):
        raise ClientError("the stack gave no upload URL for this file")
    with path.open("rb") as stream:
        request = Request(target["url"], data=stream, method=target["method"], headers=dict(target["headers"]))
        try:
            with urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                response.read()
        except HTTPError as error:
            raise ClientError(f"the media upload was refused (HTTP {error.code})") from None
        except (URLError, OSError) as error:
            raise ClientError(f"the media upload failed: {_reason(error)}") from None


def get_upload(endpoint: Endpoint, upload_id: str, after_seq: int) -> Wire:
    """GET /uploads/{id}: status and the stored messages after `after_seq` (one page)."""
    return request_json("GET", endpoint.url(f"/uploads/{upload_id}", {"token": endpoint.token, "afterSeq": after_seq}))


def wire_is_final(wire: Wire) -> bool:
    """`uptrack.pipeline.is_final` for a received message (a type this client does not know is never final)."""
    try:
        return is_final(parse_message(wire))
    except ValidationError:
        return False


class Subscription:
    """The live messages of one upload, in `seq` order, each once, ending with the final message."""

    def __init__(self, endpoint: Endpoint, created: Wire, timeout_s: float = 900.0) -> None:
        self.endpoint = endpoint
        self.upload_id: str = created["uploadId"]
        self.deadline = time.monotonic() + timeout_s
        self.next_seq = 1
        self.pending: dict[int, Wire] = {}
        self.final_seq: int | None = None
        self.closed = False
        separator = "&" if "?" in created["websocketUrl"] else "?"
        url = f"{created['websocketUrl']}{separator}{urlencode({'token': endpoint.token})}"
        self._resources = ExitStack()
        try:
            self.socket: ClientConnection = self._resources.enter_context(
                connect(url, open_timeout=HTTP_TIMEOUT_S, max_size=None)
            )
        except (InvalidURI, InvalidHandshake, OSError, TimeoutError) as error:
            raise ClientError(f"cannot open the WebSocket {url.split('?', 1)[0]}: {error}") from None
        self.socket.send(json.dumps(created.get("subscribe") or {"action": "subscribe", "uploadId": self.upload_id}))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._resources.close()

    def __iter__(self) -> Iterator[Wire]:
        gap_deadline: float | None = None
        while self.final_seq is None or self.next_seq <= self.final_seq:
            if self.next_seq in self.pending:
                wire = self.pending.pop(self.next_seq)
                self.next_seq += 1
                gap_deadline = None
                yield wire
            elif self.final_seq is None:
                self._receive(IDLE_POLL_S)
            else:  # the final message is here, an earlier one is not: its stage is being stored right now
                gap_deadline = gap_deadline or time.monotonic() + GAP_WAIT_S
                if time.monotonic() > gap_deadline:
                    raise ClientError(f"message {self.next_seq} of upload {self.upload_id} never arrived")
                self._receive(GAP_POLL_S)

    def _receive(self, wait_s: float) -> None:
        """Take one frame, or after `wait_s` without one (or on a closed socket) read the stored messages."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ClientError(f"no final message for upload {self.upload_id} in time")
        if self.closed:
            time.sleep(min(wait_s, remaining))
            self._poll()
            return
        try:
            frame = self.socket.recv(timeout=min(wait_s, remaining))
        except TimeoutError:
            self._poll()
            return
        except ConnectionClosed:
            self.closed = True
            self._poll()
            return
        self._accept(json.loads(frame))

    def _accept(self, wire: Wire) -> None:
        if wire.get("type") == LINK_TYPE:
            wire = request_json("GET", str(wire["url"]))
        seq = wire.get("seq")
        if not isinstance(seq, int):  # a message about the subscription itself (e.g. a refused subscribe)
            raise ClientError(str(wire.get("message", "the stack refused the subscription")), wire)
        if seq < self.next_seq:
            return  # a duplicate of a delivered message
        self.pending[seq] = wire
        if wire_is_final(wire):
            self.final_seq = seq

    def _poll(self) -> None:
        """Read stored messages from the HTTP API (pages until nothing is left)."""
        after = self.next_seq - 1
        while True:
            view = get_upload(self.endpoint, self.upload_id, after)
            for wire in view.get("messages", []):
                self._accept(wire)
            following = view.get("nextAfterSeq")
            if following is None:
                return
            after = int(following)


def upload_file(endpoint: Endpoint, path: Path, params: Mapping[str, str], timeout_s: float = 900.0) -> Iterator[Wire]:
    """Everything the app does for one file: the messages in order, ending with the final one."""
    if not path.is_file():
        raise ClientError(f"no such file: {path}")
    created = create_upload(endpoint, path, params)
    with Subscription(endpoint, created, timeout_s) as subscription:
        put_media(created, path)
        yield from subscription
