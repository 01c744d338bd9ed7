"""Fetch a client's `videoSrc` / `imageSrc` into the bucket, safely.

The service makes the request, so it must not become a proxy into its own network (SSRF):

* http and https only, on allowed ports, with no credentials in the URL;
* every address the host resolves to must be public: private, loopback, link-local (the instance metadata
  service), shared, multicast, reserved and unspecified addresses are refused (`allow_loopback` admits 127/8 and
  ::1 for the local stack and tests); the connection goes to the checked address itself, so DNS cannot change
  its answer between the check and the connect (rebinding);
* redirects are followed by hand, at most `max_redirects`, each hop checked the same way;
* a connect/read timeout per socket operation and a deadline for the whole transfer;
* the Content-Type must be the expected kind (or a generic binary type: the magic bytes are checked later);
* the body streams to the store and stops at `max_bytes` (a declared Content-Length over it fails at once).

Every failure is an `UptrackError` with the contract's `video_load_error` / `image_load_error` and a message that
names the reason but never an internal address.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Final
from urllib.parse import urljoin, urlsplit

from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.ports import ObjectStore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
GENERIC_TYPES: Final = frozenset({"application/octet-stream", "binary/octet-stream"})
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_USER_AGENT: Final = "uptrack-fetch/1"


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout_s: float = 30.0
    allow_loopback: bool = False
    allowed_ports: frozenset[int] | None = frozenset({80, 443})
    max_redirects: int = 3


class FetchError(Exception):
    """Why a fetch was refused or failed; becomes the contract error of the media kind."""


def _default_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise FetchError("The media host could not be resolved.") from None
    return [str(info[4][0]) for info in infos]


def address_allowed(address: IPAddress, allow_loopback: bool) -> bool:
    """Public unicast only (plus loopback when allowed); IPv4-mapped IPv6 is judged as the IPv4 it carries."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def _checked_address(host: str, port: int, policy: FetchPolicy, resolve: Resolver) -> str:
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        candidates = [str(literal)]
    except ValueError:
        candidates = resolve(host, port)
    if not candidates:
        raise FetchError("The media host could not be resolved.")
    for candidate in candidates:
        if not address_allowed(ipaddress.ip_address(candidate.split("%", 1)[0]), policy.allow_loopback):
            raise FetchError("The media URL points to a private or reserved address.")
    return candidates[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def checked_port(url: str, allowed_ports: frozenset[int] | None) -> int:
    """The URL's port (the scheme's default when absent), refused when malformed or not allowed.

    Checked when the upload is admitted too, so a URL that can never be fetched is refused before it is charged.
    """
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError("The media URL has an invalid port.") from None
    if allowed_ports is not None and port not in allowed_ports:
        raise FetchError(f"Port {port} is not allowed for media URLs.")
    return port


def _open(url: str, policy: FetchPolicy, resolve: Resolver, deadline: float) -> http.client.HTTPResponse:
    for _ in range(policy.max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("Only http and https media URLs are supported.")
        if parts.username or parts.password:
            raise FetchError("Media URLs must not carry credentials.")
        port = checked_port(url, policy.allowed_ports)
        address = _checked_address(parts.hostname, port, policy, resolve)
        timeout = max(0.1, min(policy.timeout_s, deadline - time.monotonic()))
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
        else:
            connection = _PinnedHTTPConnection(parts.hostname, port, address, timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers={"User-Agent": _USER_AGENT, "Accept": "*/*"})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise FetchError(f"The media server could not be reached ({exc.__class__.__name__}).") from None
        if response.status in _REDIRECTS:
            location = response.getheader("Location")
            connection.close()
            if not location:
                raise FetchError("The media server sent a redirect without a location.")
            url = urljoin(url, location)
            continue
        if response.status != 200:
            connection.close()
            raise FetchError(f"The media server answered HTTP {response.status}.")
        return response
    raise FetchError("Too many redirects.")


class _CappedReader:
    """A file-like view of the response body that enforces the size cap and the deadline while streaming."""

    def __init__(self, response: http.client.HTTPResponse, max_bytes: int, deadline: float) -> None:
        self._response = response
        self._max = max_bytes
        self._deadline = deadline
        self.total = 0
        self.failure: FetchError | None = None

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() > self._deadline:
            self.failure = FetchError("The media download took too long.")
            raise self.failure
        want = self._max + 1 - self.total if size is None or size < 0 else min(size, self._max + 1 - self.total)
        try:
            data = self._response.read(max(0, want))
        except (OSError, http.client.HTTPException):
            self.failure = FetchError("The media download was interrupted.")
            raise self.failure from None
        self.total += len(data)
        if self.total > self._max:
            self.failure = FetchError(f"The media is larger than {self._max} bytes.")
            raise self.failure
        return data


def _kind_allowed(content_type: str, kind: str) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    return main.startswith(f"{kind}/") or main in GENERIC_TYPES or (kind == "video" and main == "application/mp4")


def fetch_into(
    url: str,
    kind: str,
    objects: ObjectStore,
    key: str,
    policy: FetchPolicy,
    resolve: Resolver = _default_resolver,
) -> int:
    """Stream `url` into `objects[key]`; returns the size. Raises UptrackError (video/image_load_error)."""
    code = ErrorCode.IMAGE_LOAD_ERROR if kind == "image" else ErrorCode.VIDEO_LOAD_ERROR
    deadline = time.monotonic() + policy.timeout_s
    try:
        response = _open(url, policy, resolve, deadline)
        try:
            content_type = response.getheader("Content-Type") or "application/octet-stream"
            if not _kind_allowed(content_type, kind):
                raise FetchError(f"The media URL serves {content_type.split(';')[0]}, not a {kind}.")
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                raise FetchError(f"The media is larger than {policy.max_bytes} bytes.")
            reader = _CappedReader(response, policy.max_bytes, deadline)
            stream: BinaryIO = reader  # type: ignore[assignment]
            try:
                objects.upload_stream(key, stream, content_type.split(";", 1)[0].strip())
            except Exception:
                if reader.failure is not None:
                    raise reader.failure from None
                raise
            if reader.total == 0:
                objects.delete(key)
                raise FetchError("The media URL returned an empty body.")
            return reader.total
        finally:
            response.close()
    except FetchError as exc:
        raise UptrackError(code, f"The {kind} could not be loaded: {exc}", {"source": "url"}) from None
