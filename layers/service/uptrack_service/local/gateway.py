"""A local API Gateway: the HTTP API routes and a WebSocket API with its management endpoint.

* HTTP: every route of template.yaml's HttpApi events becomes a payload-2.0 event for its function.
* WebSocket: `$connect` (query string in the event; a non-200 answer refuses the handshake), messages routed by
  `$request.body.action` (`subscribe`, else `$default`), `$disconnect` when the socket closes.
* Management API, compatible with `apigatewaymanagementapi`: POST/GET/DELETE `/{stage}/@connections/{id}`;
  an unknown id answers 410 with `x-amzn-ErrorType: GoneException`, as API Gateway does.

Functions are invoked through `invoke(function_logical_id, event) -> result`, i.e. through moto's Lambda.

Every listener answers only the `Host` names it is published under (`hosts.HostAllowList`), reads a body only
when its declared length is within API Gateway's quota and it arrives in time, and closes idle connections; the
page's `local_pages` (the config with the development token) go only to a browser on this machine.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from uptrack_service.local.hosts import HostAllowList, is_local_request
from uptrack_service.local.sigv4 import Credentials, SignedRequest, problem

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


MAX_REQUEST_BYTES: Final = 10 * 1024 * 1024
"""API Gateway's HTTP API payload quota (10 MB): a bigger body is refused before a byte of it is read."""
BODY_DEADLINE_S: Final = 30.0
"""The whole body must arrive within this (a client sending a byte at a time cannot hold a thread forever)."""
IDLE_TIMEOUT_S: Final = 30.0
"""A connection that sends nothing for this long (between requests, or mid-request) is closed."""
MAX_WS_MESSAGE_BYTES: Final = 32 * 1024
"""API Gateway's WebSocket frame quota; `subscribe` messages are a few dozen bytes."""
SHUTDOWN_GRACE_S: Final = 1.0
"""On stop, how long clients get to answer the closing handshake (1001, going away) before they are cut."""

log = logging.getLogger("uptrack.local")
Page = tuple[str, bytes]


class _Server(ThreadingHTTPServer):
    """socketserver's listen backlog is 5: twenty clients connecting at once would see resets."""

    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-request is routine: one debug line, not a traceback on stderr."""
        log.debug("connection from %s ended mid-request: %s", client_address, sys.exc_info()[1])


class _Quiet(BaseHTTPRequestHandler):
    timeout = IDLE_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _display(host: str) -> str:
    """The address clients use: a wildcard bind is reached on loopback."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def _request_context(route_key: str, api_id: str, stage: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "routeKey": route_key,
        "stage": stage,
        "apiId": api_id,
        "domainName": "127.0.0.1",
        "requestId": secrets.token_hex(8),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
    }


def write(request: BaseHTTPRequestHandler, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
    """One complete response; JSON unless `headers` name another type."""
    request.send_response(status)
    for name, value in ({"Content-Type": "application/json"} | (headers or {})).items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(payload)))
    request.end_headers()
    request.wfile.write(payload)


def refuse(request: BaseHTTPRequestHandler, status: HTTPStatus) -> None:
    """An API Gateway-style refusal that also ends the connection (an unread body must not be parsed as a request)."""
    request.close_connection = True
    write(request, status, json.dumps({"message": status.phrase}).encode("utf-8"), {"Connection": "close"})


def read_body(request: BaseHTTPRequestHandler, limit: int, deadline_s: float = BODY_DEADLINE_S) -> bytes | HTTPStatus:
    """The request body, or why it is refused: declared too big (before reading it), chunked, cut short or too slow."""
    if request.headers.get("Transfer-Encoding"):
        return HTTPStatus.LENGTH_REQUIRED
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return HTTPStatus.BAD_REQUEST
    if length < 0:
        return HTTPStatus.BAD_REQUEST
    if length > limit:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    body = bytearray()
    deadline = time.monotonic() + deadline_s
    while len(body) < length:
        if time.monotonic() > deadline:
            return HTTPStatus.REQUEST_TIMEOUT
        try:
            chunk = request.rfile.read1(min(length - len(body), 64 * 1024))
        except TimeoutError:
            return HTTPStatus.REQUEST_TIMEOUT
        except OSError:  # the client reset the connection
            return HTTPStatus.BAD_REQUEST
        if not chunk:
            return HTTPStatus.BAD_REQUEST
        body += chunk
    return bytes(body)


class HttpApiServer:
    """Serves the template's HTTP API routes, and the page's static files, to the hosts it is published under."""

    def __init__(
        self,
        routes: dict[tuple[str, str], str],
        invoke: Invoke,
        port: int = 0,
        host: str = "127.0.0.1",
        pages: dict[str, Page] | None = None,
        public_host: str | None = None,
        *,
        local_pages: dict[str, Page] | None = None,
        hosts: HostAllowList | None = None,
        max_body_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self._pages = dict(pages or {})
        self._local_pages = dict(local_pages or {})
        self._routes = [
            (method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), path, function)
            for (method, path), function in routes.items()
        ]
        self._max_body = max_body_bytes
        self.public_host = public_host or _display(host)
        self._hosts = hosts or HostAllowList.of(self.public_host)
        outer = self

        class Handler(_Quiet):
            def do_GET(self) -> None:
                outer._serve(self, "GET")

            def do_POST(self) -> None:
                outer._serve(self, "POST")

            def do_OPTIONS(self) -> None:
                if outer._hosts.admits(self.headers.get("Host")):
                    write(self, 204, b"", CORS_PREFLIGHT)
                else:
                    refuse(self, HTTPStatus.FORBIDDEN)

        self._invoke = invoke
        self.server = _Server((host, port), Handler)
        self.url = f"http://{self.public_host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="http-api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        if not self._hosts.admits(request.headers.get("Host")):
            refuse(request, HTTPStatus.FORBIDDEN)
            return
        parts = urlsplit(request.path)
        route = self._route(method, parts.path)
        if route is None or self._local_page_wins(request, method, parts.path):
            self._page(request, method, parts.path)
            return
        body = read_body(request, self._max_body)
        if isinstance(body, HTTPStatus):
            refuse(request, body)
            return
        function, path, parameters = route
        result = self._invoke(function, self._event(request, method, path, parameters, body))
        headers = {name: str(value) for name, value in (result.get("headers") or {}).items()}
        payload = str(result.get("body") or "").encode("utf-8")
        write(request, int(result.get("statusCode", 200)), payload, headers | {"Access-Control-Allow-Origin": "*"})

    def _route(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        """(function, route path, path parameters) of the route `method path` matches."""
        for route_method, pattern, route_path, function in self._routes:
            match = pattern.match(path)
            if route_method == method and match:
                return function, route_path, match.groupdict()
        return None

    def _local_page_wins(self, request: BaseHTTPRequestHandler, method: str, path: str) -> bool:
        """A browser on this machine gets its `local_pages` version even where a route serves the public one
        (`config.json`: the hosted page's function serves it without the development token)."""
        local = path in self._local_pages and is_local_request(request.client_address[0], request.headers.get("Host"))
        return method == "GET" and local

    def _page(self, request: BaseHTTPRequestHandler, method: str, path: str) -> None:
        """A static page; a client on this machine gets its `local_pages` version (the one with the token)."""
        local = is_local_request(request.client_address[0], request.headers.get("Host"))
        page = (self._local_pages.get(path) if local else None) or self._pages.get(path)
        if method != "GET" or page is None:
            write(request, 404, b'{"message":"Not Found"}')
            return
        write(request, 200, page[1], {"Content-Type": page[0], "Cache-Control": "no-store"})

    @staticmethod
    def _event(
        request: BaseHTTPRequestHandler, method: str, path: str, parameters: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        """The payload-2.0 event API Gateway sends the route's function."""
        parts = urlsplit(request.path)
        return {
            "version": "2.0",
            "routeKey": f"{method} {path}",
            "rawPath": parts.path,
            "rawQueryString": parts.query,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "queryStringParameters": dict(parse_qsl(parts.query)) or None,
            "pathParameters": parameters or None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": "127.0.0.1",
                "domainPrefix": "local",
                "requestId": secrets.token_hex(8),
                "routeKey": f"{method} {path}",
                "stage": "$default",
                "time": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(time.time() * 1000),
                "http": {
                    "method": method,
                    "path": parts.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.client_address[0],
                    "userAgent": request.headers.get("User-Agent", ""),
                },
            },
            "body": base64.b64encode(body).decode("ascii") if body else None,
            "isBase64Encoded": bool(body),
        }


CORS_PREFLIGHT: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization, X-Api-Key",
}


class WebSocketGateway:
    """A WebSocket API plus its management endpoint (loopback only, signed with the stack's credentials).

    `$connect`/`$disconnect` run on their own threads, apart from messages, so subscribers busy replaying can't
    make other clients' handshakes wait. Frames over API Gateway's 32 KB quota close the connection (1009); a
    handshake must complete in 10 s; a silent peer is dropped after a missed ping.
    """

    def __init__(
        self,
        invoke: Invoke,
        connect_function: str,
        disconnect_function: str,
        routes: dict[str, str],
        stage: str = "local",
        host: str = "127.0.0.1",
        public_host: str | None = None,
        *,
        hosts: HostAllowList | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.host = host
        self.public_host = public_host or _display(host)
        self._hosts = hosts or HostAllowList.of(self.public_host)
        self._credentials = credentials
        self._invoke = invoke
        self._connect = connect_function
        self._disconnect = disconnect_function
        self._routes = routes  # route key ("subscribe", "$default") -> function
        self.stage = stage
        self._connections: dict[str, ServerConnection] = {}
        self._ids: dict[int, str] = {}
        self._control = ThreadPoolExecutor(4, thread_name_prefix="ws-control")
        self._messages = ThreadPoolExecutor(16, thread_name_prefix="ws-message")
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="websocket-gateway", daemon=True)
        self.port = 0
        gateway = self

        class Management(_Quiet):
            def do_POST(self) -> None:
                gateway._manage(self, "POST")

            def do_GET(self) -> None:
                gateway._manage(self, "GET")

            def do_DELETE(self) -> None:
                gateway._manage(self, "DELETE")

        self.management = _Server(("127.0.0.1", 0), Management)
        self._management_thread = threading.Thread(
            target=self.management.serve_forever, name="websocket-management", daemon=True
        )

    @property
    def url(self) -> str:
        return f"ws://{self.public_host}:{self.port}/{self.stage}"

    @property
    def management_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.management.server_address[1]}/{self.stage}"

    def start(self) -> None:
        self._thread.start()
        self._management_thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the WebSocket gateway did not start")

    def stop(self) -> None:
        """Stop within about `SHUTDOWN_GRACE_S`, whatever the clients do (idempotent)."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.management.shutdown()
        self.management.server_close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._shut(self._server), self._loop).result(SHUTDOWN_GRACE_S + 4)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        for pool in (self._control, self._messages):
            pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    async def _shut(server: Server) -> None:
        """Going away (1001) to every client. websockets then waits up to its close timeout for each client's
        answer, and for the connection handlers (their `$disconnect` calls a stack that is stopping); a client
        that has stopped reading never answers. So after the grace the connections are cut and the handlers
        cancelled, and the loop stops with nothing pending."""
        server.close()
        closed = asyncio.ensure_future(server.wait_closed())
        done, _ = await asyncio.wait({closed}, timeout=SHUTDOWN_GRACE_S)
        if done:
            return
        for connection in list(server.all_connections):  # `connections` lists only OPEN ones; these are closing
            connection.transport.abort()
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def begin() -> None:
            self._server = await serve(
                self._session,
                self.host,
                0,
                process_request=self._handshake,
                max_size=MAX_WS_MESSAGE_BYTES,
                open_timeout=10,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=5,
            )
            self.port = int(next(iter(self._server.sockets)).getsockname()[1])
            self._ready.set()

        self._loop.run_until_complete(begin())
        self._loop.run_forever()

    async def _call(self, pool: ThreadPoolExecutor, function: str, event: dict[str, Any]) -> dict[str, Any]:
        return await self._loop.run_in_executor(pool, self._invoke, function, event)

    def _event(self, route_key: str, event_type: str, connection_id: str) -> dict[str, Any]:
        """The shape API Gateway sends: requestContext (+ messageId for messages, headers for connect/disconnect)."""
        context = _request_context(route_key, "local", self.stage)
        context |= {"eventType": event_type, "connectionId": connection_id, "messageDirection": "IN"}
        context |= {"extendedRequestId": context["requestId"], "connectedAt": context["requestTimeEpoch"]}
        context["identity"] = {"sourceIp": "127.0.0.1", "userAgent": "uptrack-local"}
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if event_type == "MESSAGE":
            context["messageId"] = secrets.token_hex(6)
        else:
            event |= {"headers": {"Host": "127.0.0.1"}, "multiValueHeaders": {"Host": ["127.0.0.1"]}}
        if event_type == "DISCONNECT":
            context |= {"disconnectStatusCode": 1000, "disconnectReason": "Client closed"}
        return event

    async def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        named = request.headers.get_all("Host")
        if len(named) != 1 or not self._hosts.admits(named[0]):
            return Response(403, "Forbidden", Headers(), b"")
        connection_id = base64.b64encode(secrets.token_bytes(9)).decode("ascii")
        query = dict(parse_qsl(urlsplit(request.path).query))
        event = self._event("$connect", "CONNECT", connection_id)
        headers = dict(request.headers.raw_items())
        event |= {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": query or None,
        }
        result = await self._call(self._control, self._connect, event)
        status = int(result.get("statusCode", 500))
        if status != 200:
            return Response(status, HTTPStatus(status).phrase, Headers(), b"")
        self._ids[id(connection)] = connection_id
        self._connections[connection_id] = connection
        return None

    async def _session(self, connection: ServerConnection) -> None:
        connection_id = self._ids.pop(id(connection))
        try:
            async for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                try:
                    action = json.loads(text).get("action")
                except (ValueError, AttributeError, RecursionError):
                    action = None
                route = action if isinstance(action, str) and action in self._routes else "$default"
                event = self._event(route, "MESSAGE", connection_id) | {"body": text}
                await self._call(self._messages, self._routes[route], event)
        except ConnectionClosed:
            pass
        finally:
            self._connections.pop(connection_id, None)
            disconnect = self._event("$disconnect", "DISCONNECT", connection_id)
            await self._call(self._control, self._disconnect, disconnect)

    def _manage(self, request: BaseHTTPRequestHandler, method: str) -> None:
        body = read_body(request, MAX_REQUEST_BYTES)
        if isinstance(body, HTTPStatus):
            refuse(request, body)
            return
        if not self._signed(request, method, body):
            refuse(request, HTTPStatus.FORBIDDEN)
            return
        match = re.match(rf"^/{re.escape(self.stage)}/@connections/([^/?]+)$", urlsplit(request.path).path)
        if not match:
            self._answer(request, 404, {"message": "Not Found"})
            return
        connection = self._connections.get(unquote(match.group(1)))
        if connection is None:
            self._answer(request, 410, {"message": "Gone"}, error_type="GoneException")
        elif method == "POST":
            self._post(request, connection, body)
        elif method == "DELETE":
            asyncio.run_coroutine_threadsafe(connection.close(), self._loop)
            self._answer(request, 204, None)
        else:
            now = datetime.now(UTC).isoformat()
            self._answer(request, 200, {"ConnectedAt": now, "LastActiveAt": now, "Identity": {"SourceIp": "127.0.0.1"}})

    def _signed(self, request: BaseHTTPRequestHandler, method: str, body: bytes) -> bool:
        """Only the stack's functions (signing with its credentials) may push to or close a connection."""
        if self._credentials is None:
            return True
        path, _, query = request.path.partition("?")
        headers = {name.lower(): value for name, value in request.headers.items()}
        signed = SignedRequest(method, path, query, headers, lambda: body)
        return problem(signed, self._credentials, datetime.now(UTC)) is None

    def _post(self, request: BaseHTTPRequestHandler, connection: ServerConnection, data: bytes) -> None:
        future = asyncio.run_coroutine_threadsafe(connection.send(data.decode("utf-8", "replace")), self._loop)
        try:
            future.result(10)
        except Exception:
            self._answer(request, 410, {"message": "Gone"}, error_type="GoneException")
            return
        self._answer(request, 200, None)

    @staticmethod
    def _answer(
        request: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | None, error_type: str | None = None
    ) -> None:
        payload = json.dumps(body).encode("utf-8") if body is not None else b""
        write(request, status, payload, {"x-amzn-ErrorType": error_type} if error_type else None)
