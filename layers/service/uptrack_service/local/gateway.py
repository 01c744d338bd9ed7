"""A local API Gateway: the HTTP API routes and a WebSocket API with its management endpoint.

* HTTP: every route of template.yaml's HttpApi events becomes a payload-2.0 event for its function.
* WebSocket: `$connect` (query string in the event; a non-200 answer refuses the handshake), messages routed by
  `$request.body.action` (`subscribe`, else `$default`), `$disconnect` when the socket closes.
* Management API, compatible with `apigatewaymanagementapi`: POST/GET/DELETE `/{stage}/@connections/{id}`;
  an unknown id answers 410 with `x-amzn-ErrorType: GoneException`, as API Gateway does.

Functions are invoked through `invoke(function_logical_id, event) -> result`, i.e. through moto's Lambda.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

Invoke = Callable[[str, dict[str, Any]], dict[str, Any]]


class _Server(ThreadingHTTPServer):
    """socketserver's listen backlog is 5: twenty clients connecting at once would see resets."""

    request_queue_size = 128


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


class HttpApiServer:
    """Serves the template's HTTP API routes on localhost."""

    def __init__(
        self,
        routes: dict[tuple[str, str], str],
        invoke: Invoke,
        port: int = 0,
        host: str = "127.0.0.1",
        pages: dict[str, tuple[str, bytes]] | None = None,
        public_host: str | None = None,
    ) -> None:
        self._pages = dict(pages or {})
        self._routes = [
            (method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), path, function)
            for (method, path), function in routes.items()
        ]
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._serve(self, "GET")

            def do_POST(self) -> None:
                outer._serve(self, "POST")

            def do_OPTIONS(self) -> None:
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
                self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Api-Key")
                self.end_headers()

        self._invoke = invoke
        self.server = _Server((host, port), Handler)
        self.url = f"http://{public_host or _display(host)}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="http-api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        for route_method, pattern, path, function in self._routes:
            match = pattern.match(parts.path)
            if route_method == method and match:
                event = {
                    "version": "2.0",
                    "routeKey": f"{method} {path}",
                    "rawPath": parts.path,
                    "rawQueryString": parts.query,
                    "headers": {k.lower(): v for k, v in request.headers.items()},
                    "queryStringParameters": dict(parse_qsl(parts.query)) or None,
                    "pathParameters": match.groupdict() or None,
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
                result = self._invoke(function, event)
                payload = str(result.get("body") or "").encode("utf-8")
                request.send_response(int(result.get("statusCode", 200)))
                for name, value in (result.get("headers") or {}).items():
                    request.send_header(name, str(value))
                request.send_header("Access-Control-Allow-Origin", "*")
                request.send_header("Content-Length", str(len(payload)))
                request.end_headers()
                request.wfile.write(payload)
                return
        page = self._pages.get(parts.path) if method == "GET" else None
        if page is not None:
            request.send_response(200)
            request.send_header("Content-Type", page[0])
            request.send_header("Content-Length", str(len(page[1])))
            request.end_headers()
            request.wfile.write(page[1])
            return
        request.send_response(404)
        request.send_header("Content-Type", "application/json")
        request.end_headers()
        request.wfile.write(b'{"message":"Not Found"}')


class WebSocketGateway:
    """A WebSocket API plus its management endpoint, on two localhost ports."""

    def __init__(
        self,
        invoke: Invoke,
        connect_function: str,
        disconnect_function: str,
        routes: dict[str, str],
        stage: str = "local",
        host: str = "127.0.0.1",
        public_host: str | None = None,
    ) -> None:
        self.host = host
        self.public_host = public_host or _display(host)
        self._invoke = invoke
        self._connect = connect_function
        self._disconnect = disconnect_function
        self._routes = routes  # route key ("subscribe", "$default") -> function
        self.stage = stage
        self._connections: dict[str, ServerConnection] = {}
        self._ids: dict[int, str] = {}
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="websocket-gateway", daemon=True)
        self.port = 0
        gateway = self

        class Management(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

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
        self.management.shutdown()
        self.management.server_close()
        if self._server is not None:
            server = self._server

            async def close() -> None:
                server.close()
                await server.wait_closed()

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def begin() -> None:
            self._server = await serve(self._session, self.host, 0, process_request=self._handshake)
            self.port = int(next(iter(self._server.sockets)).getsockname()[1])
            self._ready.set()

        self._loop.run_until_complete(begin())
        self._loop.run_forever()

    async def _call(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self._invoke, function, event)

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
        connection_id = base64.b64encode(secrets.token_bytes(9)).decode("ascii")
        query = dict(parse_qsl(urlsplit(request.path).query))
        event = self._event("$connect", "CONNECT", connection_id)
        headers = dict(request.headers.raw_items())
        event |= {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "queryStringParameters": query or None,
        }
        result = await self._call(self._connect, event)
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
                except (ValueError, AttributeError):
                    action = None
                route = action if isinstance(action, str) and action in self._routes else "$default"
                event = self._event(route, "MESSAGE", connection_id) | {"body": text}
                await self._call(self._routes[route], event)
        finally:
            self._connections.pop(connection_id, None)
            await self._call(self._disconnect, self._event("$disconnect", "DISCONNECT", connection_id))

    def _manage(self, request: BaseHTTPRequestHandler, method: str) -> None:
        match = re.match(rf"^/{re.escape(self.stage)}/@connections/([^/?]+)$", urlsplit(request.path).path)
        length = int(request.headers.get("Content-Length") or 0)
        data = request.rfile.read(length) if length else b""
        connection_id = ""
        if match:
            from urllib.parse import unquote

            connection_id = unquote(match.group(1))
        connection = self._connections.get(connection_id)
        if not match:
            self._answer(request, 404, {"message": "Not Found"})
            return
        if connection is None:
            self._answer(request, 410, {"message": "Gone"}, error_type="GoneException")
            return
        if method == "POST":
            text = data.decode("utf-8", "replace")
            future = asyncio.run_coroutine_threadsafe(connection.send(text), self._loop)
            try:
                future.result(10)
            except Exception:
                self._answer(request, 410, {"message": "Gone"}, error_type="GoneException")
                return
            self._answer(request, 200, None)
        elif method == "DELETE":
            asyncio.run_coroutine_threadsafe(connection.close(), self._loop)
            self._answer(request, 204, None)
        else:
            now = datetime.now(UTC).isoformat()
            self._answer(request, 200, {"ConnectedAt": now, "LastActiveAt": now, "Identity": {"SourceIp": "127.0.0.1"}})

    @staticmethod
    def _answer(
        request: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | None, error_type: str | None = None
    ) -> None:
        payload = json.dumps(body).encode("utf-8") if body is not None else b""
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        if error_type:
            request.send_header("x-amzn-ErrorType", error_type)
        request.end_headers()
        request.wfile.write(payload)
