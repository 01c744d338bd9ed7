"""moto's server behind the checks AWS makes at its front door, on loopback.

moto answers anyone with any credentials, and `/moto-api/` can reset it or start its recorder (which then writes
every request, uploaded videos included, to a file). `GuardedMoto` lets through only:

* requests whose `Host` is one the stack publishes (no DNS rebinding);
* `/moto-api/` calls carrying the stack's own admin key (the stack configures and resets moto; nobody else may);
* requests signed with the stack's per-run credentials (`sigv4.problem`), optionally for some services only;
* CORS preflights (`OPTIONS`, which carry no signature), answered here and never passed on: moto would run the
  action an `OPTIONS` request names (an unsigned `OPTIONS` with `X-Amz-Target: ...ListTables` listed the tables).

Everything else gets 403 with an AWS-style error body. `MotoListener` serves it on one address in a thread.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

from uptrack_service.local.hosts import HostAllowList
from uptrack_service.local.sigv4 import Credentials, SignedRequest, problem

ADMIN_HEADER: Final = "X-Uptrack-Admin"
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


def _headers(environ: Environ) -> dict[str, str]:
    found = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items() if key.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            found[key.replace("_", "-").lower()] = str(environ[key])
    return found


def _body_reader(environ: Environ) -> Callable[[], bytes]:
    """Read the body once for hashing and hand moto a copy (only non-S3 calls, whose bodies are small)."""

    def read() -> bytes:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return bytes(body)

    return read


def signed_request(environ: Environ) -> SignedRequest:
    raw = str(environ.get("RAW_URI") or environ.get("PATH_INFO") or "/")
    path, _, query = raw.partition("?")
    return SignedRequest(str(environ["REQUEST_METHOD"]), path, query, _headers(environ), _body_reader(environ))


class GuardedMoto:
    def __init__(
        self,
        app: WsgiApp,
        credentials: Credentials,
        hosts: HostAllowList,
        admin_key: str,
        services: frozenset[str] | None = None,
    ) -> None:
        self._app = app
        self._credentials = credentials
        self._hosts = hosts
        self._admin_key = admin_key
        self._services = services

    def refusal(self, environ: Environ) -> str | None:
        """Why this request may not reach moto, or None."""
        if not self._hosts.admits(environ.get("HTTP_HOST")):
            return "host not allowed"
        if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
            return (
                None
                if environ.get("HTTP_" + ADMIN_HEADER.upper().replace("-", "_")) == self._admin_key
                else ("the moto API is the local stack's own")
            )
        return problem(signed_request(environ), self._credentials, datetime.now(UTC), self._services)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "OPTIONS" and self._hosts.admits(environ.get("HTTP_HOST")):
            return _preflight(environ, start_response)
        reason = self.refusal(environ)
        if reason is None:
            return self._app(environ, start_response)
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code><Message>{reason}</Message></Error>"
        ).encode()
        start_response("403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))])
        return [body]


def _preflight(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    """What S3 answers a browser about to PUT or GET a presigned URL from another origin."""
    headers = [
        ("Access-Control-Allow-Origin", str(environ.get("HTTP_ORIGIN") or "*")),
        ("Access-Control-Allow-Methods", "GET, HEAD, PUT"),
        ("Access-Control-Allow-Headers", str(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or "*")),
        ("Access-Control-Max-Age", "600"),
        ("Vary", "Origin"),
        ("Content-Length", "0"),
    ]
    start_response("200 OK", headers)
    return [b""]


class MotoListener:
    """One address serving moto's (guarded) app, on a daemon thread; `port` 0 picks a free one."""

    def __init__(self, app: WsgiApp, host: str, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        self.server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name=f"moto-{host}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def moto_app() -> WsgiApp:
    """moto's own dispatcher: every service, chosen by host and credential scope."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app: WsgiApp = DomainDispatcherApplication(create_backend_app)
    return app


def sign_step_functions_calls(credentials: Credentials) -> None:
    """moto's Step Functions call moto back over HTTP (Map's ItemReader, Lambda tasks) with the fixed pair `ak`/`sk`,
    which the guard refuses: their clients get the stack's credentials instead."""
    import boto3
    from moto.stepfunctions.parser.asl.utils import boto_client

    class SignedBoto3:
        @staticmethod
        def client(*args: Any, **kwargs: Any) -> Any:
            kwargs |= {"aws_access_key_id": credentials.access_key_id}
            kwargs |= {"aws_secret_access_key": credentials.secret_access_key}
            return boto3.client(*args, **kwargs)

    setattr(boto_client, "boto3", SignedBoto3)  # noqa: B010  (moto does not export the name)
