"""Files other processes read while we write them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so a concurrent reader sees the old file or the whole new one, never a part.

    The content goes to a temporary file in the same folder (created readable by its owner only, as `mkstemp`
    does), which then replaces `path` in one rename.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
