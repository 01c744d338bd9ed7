"""`ObjectStore` in a local folder: the CLI's and a laptop's stand-in for S3 (file:// URLs, no signatures)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from uptrack_service.ports import ObjectInfo, ObjectMissingError, PresignedUpload

_CHUNK = 1024 * 1024


class FolderObjectStore:
    def __init__(self, root: Path, bucket: str = "local") -> None:
        self.root = root
        self.bucket = bucket

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key escapes the store: {key!r}")
        return path

    def _write(self, key: str, fill: BinaryIO | bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(fill, bytes):
                    handle.write(fill)
                else:
                    shutil.copyfileobj(fill, handle, _CHUNK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._write(key, data)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise ObjectMissingError(key) from None

    def read_head(self, key: str, length: int) -> bytes:
        try:
            with self._path(key).open("rb") as handle:
                return handle.read(length)
        except FileNotFoundError:
            raise ObjectMissingError(key) from None

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        return ObjectInfo(size=path.stat().st_size, content_type=None) if path.is_file() else None

    def download(self, key: str, path: Path) -> None:
        try:
            shutil.copyfile(self._path(key), path)
        except FileNotFoundError:
            raise ObjectMissingError(key) from None

    def upload_stream(self, key: str, stream: BinaryIO, content_type: str) -> None:
        self._write(key, stream)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def presign_put(self, key: str, content_type: str, content_length: int, expires_s: int) -> PresignedUpload:
        headers = {"Content-Type": content_type, "Content-Length": str(content_length)}
        return PresignedUpload(url=self._path(key).as_uri(), method="PUT", headers=headers, expires_in_s=expires_s)

    def presign_get(self, key: str, expires_s: int) -> str:
        return self._path(key).as_uri()

    def media_source(self, key: str) -> Path:
        return self._path(key)
