"""AWS Signature Version 4, checked the way AWS checks it, for the local stack's moto server.

moto accepts any credentials and never checks a signature, so anyone who reaches its port can read the tokens table
or write a token of their own. The local stack gives moto credentials of its own (random per run) and lets through
only requests signed with them: `problem(request, credentials, now)` recomputes the signature of a request signed in
the `Authorization` header (every SDK call) or in the query (a presigned URL) and answers what is wrong, or None.
It follows the specification: canonical request, string to sign, derived key; an expired presigned URL is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import quote, unquote

ALGORITHM: Final = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
MAX_CLOCK_SKEW: Final = timedelta(minutes=15)
"""How far a header-signed request's `X-Amz-Date` may be from now, as on AWS."""
_UNRESERVED: Final = "-_.~"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str

    @classmethod
    def random(cls) -> Credentials:
        """A pair nobody else knows, minted per run of the local stack."""
        return cls("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))


@dataclass(frozen=True)
class SignedRequest:
    """What the check needs from an HTTP request: the raw path and query as sent, lower-case headers, the body."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]
    body: Callable[[], bytes] = field(default=lambda: b"")
    """Read only for a header-signed request without `x-amz-content-sha256` (every service but S3)."""


@dataclass(frozen=True)
class _Authorization:
    credential: list[str]  # key id, date, region, service, "aws4_request"
    signed_headers: list[str]
    signature: str
    amz_date: str


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decoded name/value pairs; unlike `parse_qsl`, a `+` stays a plus, as SigV4 reads it."""
    pairs = (part.partition("=") for part in raw_query.split("&") if part)
    return [(unquote(name), unquote(value)) for name, _, value in pairs]


def _canonical_query(raw_query: str) -> str:
    pairs = _query_pairs(raw_query)
    return "&".join(
        f"{quote(name, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}"
        for name, value in sorted(pairs)
        if name != "X-Amz-Signature"
    )


def _canonical_path(raw_path: str, service: str) -> str:
    """S3 signs the path as sent; the other services sign it encoded once more, as botocore does."""
    return raw_path if service == "s3" else quote(raw_path or "/", safe="/~")


def _from_header(value: str) -> _Authorization | None:
    if not value.startswith(ALGORITHM + " "):
        return None
    fields = dict(part.strip().split("=", 1) for part in value[len(ALGORITHM) :].split(",") if "=" in part)
    if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
        return None
    return _Authorization(fields["Credential"].split("/"), fields["SignedHeaders"].split(";"), fields["Signature"], "")


def _from_query(query: Mapping[str, str]) -> _Authorization | None:
    if query.get("X-Amz-Algorithm") != ALGORITHM or "X-Amz-Signature" not in query:
        return None
    signed = query.get("X-Amz-SignedHeaders", "host").split(";")
    return _Authorization(
        query.get("X-Amz-Credential", "").split("/"), signed, query["X-Amz-Signature"], query.get("X-Amz-Date", "")
    )


def _payload_hash(request: SignedRequest, presigned: bool) -> str:
    declared = request.headers.get("x-amz-content-sha256")
    if declared:
        return declared
    return UNSIGNED_PAYLOAD if presigned else hashlib.sha256(request.body()).hexdigest()


def _expected(request: SignedRequest, auth: _Authorization, secret: str, presigned: bool) -> str:
    _, date, region, service, _ = auth.credential
    headers = "".join(f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in auth.signed_headers)
    canonical = "\n".join(
        [
            request.method.upper(),
            _canonical_path(request.raw_path, service),
            _canonical_query(request.raw_query),
            headers,
            ";".join(auth.signed_headers),
            _payload_hash(request, presigned),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, auth.amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _signed_at(amz_date: str) -> datetime | None:
    try:
        return datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _stale(auth: _Authorization, query: Mapping[str, str], presigned: bool, now: datetime) -> str | None:
    signed_at = _signed_at(auth.amz_date)
    if signed_at is None:
        return "missing or malformed X-Amz-Date"
    if not presigned:
        return None if abs(now - signed_at) <= MAX_CLOCK_SKEW else "request time too skewed"
    try:
        lifetime = int(query.get("X-Amz-Expires", ""))
    except ValueError:
        return "missing or malformed X-Amz-Expires"
    return None if now <= signed_at + timedelta(seconds=lifetime) else "request has expired"


def problem(
    request: SignedRequest, credentials: Credentials, now: datetime, services: frozenset[str] | None = None
) -> str | None:
    """Why AWS would refuse this request (unsigned, another key, a wrong signature, expired), or None.

    `services` limits which services the signature may be scoped to (None: any)."""
    query = dict(_query_pairs(request.raw_query))
    header = request.headers.get("authorization", "")
    presigned = not header
    auth = _from_query(query) if presigned else _from_header(header)
    if auth is None:
        return "missing or malformed signature"
    if len(auth.credential) != 5 or auth.credential[0] != credentials.access_key_id:
        return "unknown access key"
    if services is not None and auth.credential[3] not in services:
        return "service not served here"
    if not presigned:
        auth = _Authorization(
            auth.credential, auth.signed_headers, auth.signature, request.headers.get("x-amz-date", "")
        )
    stale = _stale(auth, query, presigned, now)
    if stale:
        return stale
    expected = _expected(request, auth, credentials.secret_access_key, presigned)
    return None if hmac.compare_digest(expected, auth.signature) else "signature does not match"
