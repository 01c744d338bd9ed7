"""Fetch a client's `videoSrc` / `imageSrc` into the bucket, safely.

The service makes the request, so it must not become a proxy into its own network (SSRF):

* http and https only, on allowed ports, with no credentials in the URL; what can be judged without the network
  (scheme, port, credentials, a literal address) is judged when the upload is created, before it is charged
  (`check_media_url`);
* every address the host resolves to must be public: private, loopback, link-local (the instance metadata
  service), shared, multicast, reserved and unspecified addresses are refused, and so are IPv6 forms that carry
  such an IPv4 address (IPv4-mapped, 6to4, NAT64); `allow_loopback` admits 127/8 and ::1 for the local stack and
  tests. The connection goes to the checked address itself, so DNS cannot change its answer between the check
  and the connect (rebinding);
* redirects are followed by hand, at most `max_redirects`, each hop checked the same way;
* one wall-clock deadline for the whole fetch (connect, TLS, headers, body, every hop), enforced while reading:
  a watchdog shuts the socket down when it passes, so a server that sends a byte a second is cut off on time;
* the Content-Type must be the expected kind (or a generic binary type: the magic bytes are checked later);
* the body streams to the store and stops at `max_bytes` (a declared Content-Length over it fails at once).

Every failure is an `UptrackError` with the contract's `video_load_error` / `image_load_error` and a message that
names the reason but never an internal address.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Final
from urllib.parse import SplitResult, urljoin, urlsplit

from uptrack.contract.errors import ErrorCode, UptrackError

from uptrack_service.ports import ObjectStore
from uptrack_service.settings import ServiceSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
GENERIC_TYPES: Final = frozenset({"application/octet-stream", "binary/octet-stream"})
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_USER_AGENT: Final = "uptrack-fetch/1"
_NAT64: Final = ipaddress.ip_network("64:ff9b::/96")
_TOO_SLOW: Final = "The media download took too long."


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int
    timeout_s: float = 30.0
    allow_loopback: bool = False
    allowed_ports: frozenset[int] | None = frozenset({80, 443})
    max_redirects: int = 3


def fetch_policy(settings: ServiceSettings, max_bytes: int) -> FetchPolicy:
    """The policy of this deployment for one upload (the same when the URL is checked and when it is fetched)."""
    return FetchPolicy(
        max_bytes=max_bytes,
        timeout_s=settings.fetch_timeout_s,
        allow_loopback=settings.fetch_allow_loopback,
        allowed_ports=settings.allowed_ports(),
    )


class FetchError(Exception):
    """Why a fetch was refused or failed; becomes the contract error of the media kind."""


def _default_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # unknown name, or one that IDNA cannot encode
        raise FetchError("The media host could not be resolved.") from None
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form delivers to through a translator or relay (IPv4-mapped, 6to4, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress, allow_loopback: bool) -> bool:
    """Public unicast only (plus loopback when allowed); an IPv6 form of an IPv4 address is judged as that IPv4."""
    if isinstance(address, ipaddress.IPv6Address):
        address = _embedded_ipv4(address) or address
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _target(url: str, policy: FetchPolicy) -> tuple[SplitResult, str, int]:
    """Host and port of a URL the policy admits, judged without the network; raises FetchError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port out of 1-65535 or not a number, a broken IPv6 literal
        raise FetchError("The media URL has an invalid host or port.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("Only http and https media URLs are supported.")
    if parts.username or parts.password:
        raise FetchError("Media URLs must not carry credentials.")
    port = port or (443 if parts.scheme == "https" else 80)
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        raise FetchError(f"Port {port} is not allowed for media URLs.")
    literal = _literal(parts.hostname)
    if literal is not None and not address_allowed(literal, policy.allow_loopback):
        raise FetchError("The media URL points to a private or reserved address.")
    return parts, parts.hostname, port


def check_media_url(url: str, param: str, policy: FetchPolicy) -> None:
    """Refuse at once, before an upload is created and charged, a URL that the fetch would refuse anyway."""
    try:
        _target(url, policy)
    except FetchError as exc:
        raise UptrackError(ErrorCode.INVALID_PARAMS, f"{param}: {exc}", {"param": param}) from None


def _checked_address(host: str, port: int, policy: FetchPolicy, resolve: Resolver) -> str:
    literal = _literal(host)
    candidates = [str(literal)] if literal is not None else resolve(host, port)
    if not candidates:
        raise FetchError("The media host could not be resolved.")
    for candidate in candidates:
        if not address_allowed(ipaddress.ip_address(candidate.split("%", 1)[0]), policy.allow_loopback):
            raise FetchError("The media URL points to a private or reserved address.")
    return candidates[0]


class _Deadline:
    """The fetch's single wall-clock budget. Socket timeouts alone restart at every byte, so a server that sends a
    byte a second (in its headers or its body) would hold a fetch for ever; a watchdog thread shuts the current
    socket down when the budget is spent, which ends whatever read is blocked on it."""

    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds
        self._watchdog: threading.Timer | None = None
        self.expired = False

    def remaining(self) -> float:
        left = self._at - time.monotonic()
        if left <= 0:
            self.expired = True
            raise FetchError(_TOO_SLOW)
        return left

    def watch(self, sock: socket.socket) -> None:
        self.cancel()
        self._watchdog = threading.Timer(self.remaining(), self._cut, (sock,))
        self._watchdog.daemon = True
        self._watchdog.start()

    def _cut(self, sock: socket.socket) -> None:
        self.expired = True
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's shutdown, TLS or not

    def cancel(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()

    def failure(self, reason: str) -> FetchError:
        """The error for a failed read: the deadline's when it has passed, else `reason`."""
        return FetchError(_TOO_SLOW if self.expired or time.monotonic() >= self._at else reason)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, deadline: _Deadline) -> None:
        super().__init__(host, port, timeout=deadline.remaining())
        self._address = address
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self._deadline.remaining())
        self._deadline.watch(self.sock)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, address: str, deadline: _Deadline) -> None:
        super().__init__(host, port, address, deadline)
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self._deadline.remaining())
        tls = self._tls.wrap_socket(raw, server_hostname=self.host, do_handshake_on_connect=False)
        self.sock = tls  # closed with the connection if the handshake fails
        self._deadline.watch(tls)  # the handshake is under the deadline too
        tls.do_handshake()


def _open(url: str, policy: FetchPolicy, resolve: Resolver, deadline: _Deadline) -> http.client.HTTPResponse:
    for _ in range(policy.max_redirects + 1):
        parts, host, port = _target(url, policy)
        address = _checked_address(host, port, policy, resolve)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = _PinnedHTTPSConnection(host, port, address, deadline)
        else:
            connection = _PinnedHTTPConnection(host, port, address, deadline)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers={"User-Agent": _USER_AGENT, "Accept": "*/*"})
            response = connection.getresponse()
        except (OSError, ValueError, http.client.HTTPException) as exc:
            connection.close()
            raise deadline.failure(f"The media server could not be reached ({exc.__class__.__name__}).") from None
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

    def __init__(self, response: http.client.HTTPResponse, max_bytes: int, deadline: _Deadline) -> None:
        self._response = response
        self._max = max_bytes
        self._deadline = deadline
        self.total = 0
        self.failure: FetchError | None = None

    def read(self, size: int = -1) -> bytes:
        want = self._max + 1 - self.total if size is None or size < 0 else min(size, self._max + 1 - self.total)
        try:
            self._deadline.remaining()
            data = self._response.read(max(0, want))
            if self._deadline.expired:  # the cut reads as the end of the body, or as a short last read
                raise FetchError(_TOO_SLOW)
        except FetchError as exc:
            self.failure = exc
            raise
        except (OSError, ValueError, http.client.HTTPException):
            self.failure = self._deadline.failure("The media download was interrupted.")
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
    deadline = _Deadline(policy.timeout_s)
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
    finally:
        deadline.cancel()
