"""`ObjectStore` over one S3 bucket: SigV4 presigned URLs, ranged reads, streamed multipart uploads."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO, Final

from botocore.exceptions import ClientError

from uptrack_service.observability import logger
from uptrack_service.ports import ObjectInfo, ObjectMissingError, PresignedUpload, upload_headers

_NOT_FOUND: Final = frozenset({"NoSuchKey", "404", "NotFound"})
_DENIED: Final = frozenset({"AccessDenied", "403", "Forbidden"})


def is_missing_key(exc: ClientError) -> bool:
    """A read of a key that is not there. S3 answers 404 only to a caller allowed s3:ListBucket on the bucket and
    403 AccessDenied to everyone else (a policy that grants ListBucket under an `s3:prefix` condition does not
    count: a GET carries no prefix), so both mean "not found" on a read. A 403 for a real permission gap then
    reads as a missing object too; the warning keeps it visible in the logs."""
    code = str(exc.response.get("Error", {}).get("Code"))
    if code in _DENIED:
        logger.warning("S3 answered 403 for a read; treated as a missing key", extra={"s3_error": code})
    return code in _NOT_FOUND or code in _DENIED


class S3ObjectStore:
    """The client must sign with SigV4 (`Config(signature_version="s3v4")`) so presigned URLs bind their headers."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_missing_key(exc):
                raise ObjectMissingError(key) from None
            raise
        return bytes(response["Body"].read())

    def read_head(self, key: str, length: int) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{max(0, length - 1)}")
        except ClientError as exc:
            if is_missing_key(exc):
                raise ObjectMissingError(key) from None
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # an empty object
                return b""
            raise
        return bytes(response["Body"].read())[:length]

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if is_missing_key(exc):
                return None
            raise
        return ObjectInfo(size=int(response["ContentLength"]), content_type=response.get("ContentType"))

    def download(self, key: str, path: Path) -> None:
        try:
            self._client.download_file(self.bucket, key, str(path))
        except ClientError as exc:
            if is_missing_key(exc):
                raise ObjectMissingError(key) from None
            raise

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        self._client.upload_fileobj(stream, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def presign_put(self, key: str, content_type: str, content_length: int, expires_s: int) -> PresignedUpload:
        """A PUT URL whose signature covers Content-Type, Content-Length and If-None-Match (`upload_headers`): any
        other type or size is refused, and the key is written once."""
        params = {"Bucket": self.bucket, "Key": key, "ContentType": content_type, "ContentLength": content_length}
        url = self._client.generate_presigned_url(
            "put_object", Params=params | {"IfNoneMatch": "*"}, ExpiresIn=expires_s
        )
        headers = upload_headers(content_type, content_length)
        return PresignedUpload(url=url, method="PUT", headers=headers, expires_in_s=expires_s)

    def presign_get(self, key: str, expires_s: int) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )
        return url

    def media_source(self, key: str) -> str:
        return self.presign_get(key, 3600)
