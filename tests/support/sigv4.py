"""S3's own check of a SigV4 presigned URL, for the rules moto does not enforce (signature, signed headers, expiry).

`s3_verdict(url, method, headers, secret, now)` answers what S3 would: `ok`, `SignatureDoesNotMatch` (another
method, key, content type or length than the ones signed) or `AccessDenied: Request has expired`. It follows the
SigV4 specification (canonical request, string to sign, derived key) for query-string authentication with an
unsigned payload, which is how boto3 presigns `put_object`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM: Final = "AWS4-HMAC-SHA256"
_UNRESERVED: Final = "-_.~"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def signature(url: str, method: str, headers: Mapping[str, str], secret: str) -> str:
    """The signature S3 computes for this request (headers: the ones the client sends, `host` added)."""
    parts = urlsplit(url)
    query = query_of(url)
    signed = query["X-Amz-SignedHeaders"].split(";")
    sent = {name.lower(): " ".join(str(value).split()) for name, value in headers.items()}
    sent["host"] = parts.netloc
    canonical_query = "&".join(
        f"{quote(name, safe=_UNRESERVED)}={quote(value, safe=_UNRESERVED)}"
        for name, value in sorted(query.items())
        if name != "X-Amz-Signature"
    )
    canonical_headers = "".join(f"{name}:{sent.get(name, '')}\n" for name in signed)
    canonical = "\n".join(
        [method, parts.path, canonical_query, canonical_headers, ";".join(signed), "UNSIGNED-PAYLOAD"]
    )
    _, date, region, service, _ = query["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, query["X-Amz-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), date), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def expires_at(url: str) -> datetime:
    query = query_of(url)
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at + timedelta(seconds=int(query["X-Amz-Expires"]))


def s3_verdict(url: str, method: str, headers: Mapping[str, str], secret: str, now: datetime) -> str:
    if now > expires_at(url):
        return "AccessDenied: Request has expired"
    if not hmac.compare_digest(signature(url, method, headers, secret), query_of(url)["X-Amz-Signature"]):
        return "SignatureDoesNotMatch"
    return "ok"
