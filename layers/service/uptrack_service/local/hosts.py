"""Which `Host` a local listener answers, and which requests come from this machine.

A browser sends the name it resolved in `Host`: a page on another site that re-points its own name at 127.0.0.1
(DNS rebinding) reaches a loopback listener with that foreign name, so every listener of the local stack answers
only the names it is published under, and the development token goes only to a client on this machine that
also names it by a loopback name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

LOOPBACK_NAMES: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def hostname(host_header: str | None) -> str | None:
    """The name in a `Host` header (`name`, `name:port`, `[v6]:port`), lower-case; None when unreadable."""
    if not host_header or any(c in host_header for c in "@/\\?#"):
        return None
    try:
        parsed = urlsplit(f"//{host_header.strip()}")
        parsed.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return None
    return parsed.hostname


def is_loopback_address(address: str) -> bool:
    """127/8, ::1, or an IPv4-mapped 127/8 (a dual-stack socket reports those)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass(frozen=True)
class HostAllowList:
    names: frozenset[str]

    @classmethod
    def of(cls, *names: str) -> HostAllowList:
        """Loopback names plus the given ones (the published host, `--allow-host`)."""
        return cls(LOOPBACK_NAMES | {name.strip("[]").lower() for name in names if name})

    def admits(self, host_header: str | None) -> bool:
        return hostname(host_header) in self.names


def is_local_request(client_address: str, host_header: str | None) -> bool:
    """From this machine and addressed by a loopback name: the only requests that may see the development token."""
    return is_loopback_address(client_address) and hostname(host_header) in LOOPBACK_NAMES
