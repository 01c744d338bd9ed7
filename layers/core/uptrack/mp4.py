"""How many frames an MP4/MOV video really presents when its edit list trims the coded ones.

Phones and editors cut a clip without re-encoding by adding an edit list (`elst`): the coded samples stay in the
file, the edit says which stretch of them is shown. FFmpeg honours it when decoding, but the frame count that
OpenCV reports is the coded one (`nb_frames`), so a clip whose first 25 frames were cut off would be announced 25
frames (0.8 s) longer than anything that can be decoded. The box walk below reads only the `moov` box: no frame
is decoded, and files without an edit list (or that are not MP4/MOV at all) are left as they are.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final

MAX_MOOV_BYTES: Final = 64 * 1024 * 1024
"""A `moov` larger than this is not read (the frame count then stays the container's)."""

_CONTAINERS: Final = frozenset({b"trak", b"mdia", b"minf", b"stbl", b"edts"})


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of each box in data[start:end]; stops at a malformed header."""
    end = len(data) if end is None else end
    position = start
    while position + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1 and position + 16 <= end:
            size = struct.unpack_from(">Q", data, position + 8)[0]
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _read_moov(handle: BinaryIO, file_size: int) -> bytes | None:
    """The body of the top-level `moov` box, found by skipping the other top-level boxes (`mdat` may come first)."""
    position = 0
    while position + 8 <= file_size:
        handle.seek(position)
        header = handle.read(16)
        if len(header) < 8:
            return None
        size, kind = struct.unpack_from(">I4s", header)
        skip = 8
        if size == 1 and len(header) == 16:
            size, skip = struct.unpack_from(">Q", header, 8)[0], 16
        elif size == 0:
            size = file_size - position
        if size < skip:
            return None
        if kind == b"moov":
            if size - skip > MAX_MOOV_BYTES:
                return None
            handle.seek(position + skip)
            return handle.read(size - skip)
        position += size
    return None


def _children(data: bytes, start: int, end: int) -> dict[bytes, tuple[int, int]]:
    """The first box of each type directly inside data[start:end], and, one level down, inside containers."""
    found: dict[bytes, tuple[int, int]] = {}
    for kind, body, stop in _boxes(data, start, end):
        found.setdefault(kind, (body, stop))
        if kind in _CONTAINERS:
            for inner, span in _children(data, body, stop).items():
                found.setdefault(inner, span)
    return found


def _movie_timescale(moov: bytes) -> int | None:
    for kind, body, _ in _boxes(moov):
        if kind == b"mvhd":
            version = moov[body]
            return int(struct.unpack_from(">I", moov, body + (20 if version == 1 else 12))[0])
    return None


def _frame_interval(moov: bytes, stts: int) -> int | None:
    """The sample duration of (at least 90 % of) the track's samples; None for a variable frame rate, whose
    samples cannot be told from times without reading the whole sample table."""
    runs = [
        struct.unpack_from(">II", moov, stts + 8 + 8 * i) for i in range(struct.unpack_from(">I", moov, stts + 4)[0])
    ]
    total = sum(count for count, _ in runs)
    count, delta = max(runs, default=(0, 0))
    return int(delta) if total and delta and count >= 0.9 * total else None


def _shown_samples(moov: bytes, trak: tuple[int, int], movie_scale: int) -> int | None:
    """How many samples the video track's first non-empty edit shows; None without one (or without a video).

    Where the edit starts says nothing of dropped frames by itself (B-frames shift composition times, so a
    whole clip's edit often starts a frame or two in): its duration does.
    """
    boxes = _children(moov, *trak)
    if not {b"hdlr", b"mdhd", b"elst", b"stts"} <= boxes.keys():
        return None
    hdlr, mdhd, elst, stts = (boxes[k][0] for k in (b"hdlr", b"mdhd", b"elst", b"stts"))
    if moov[hdlr + 8 : hdlr + 12] != b"vide":
        return None
    media_scale = struct.unpack_from(">I", moov, mdhd + (20 if moov[mdhd] == 1 else 12))[0]
    delta = _frame_interval(moov, stts)
    if delta is None or not media_scale or not movie_scale:
        return None
    version, entries = moov[elst], struct.unpack_from(">I", moov, elst + 4)[0]
    layout, width = (">QqI", 20) if version == 1 else (">IiI", 12)
    for i in range(entries):
        duration, media_time, _ = struct.unpack_from(layout, moov, elst + 8 + width * i)
        if media_time < 0:
            continue  # an empty edit delays the track; it trims nothing
        return round(duration * media_scale / movie_scale / delta) if duration else None
    return None


def presented_frames(path: Path, coded_frames: int) -> int:
    """The frames an edit list lets through, out of `coded_frames`; `coded_frames` when there is no edit to apply."""
    try:
        with path.open("rb") as handle:
            moov = _read_moov(handle, path.stat().st_size)
    except OSError:
        return coded_frames
    if moov is None:
        return coded_frames
    scale = _movie_timescale(moov)
    for kind, body, stop in _boxes(moov):
        shown = _shown_samples(moov, (body, stop), scale or 0) if kind == b"trak" else None
        if shown is not None:
            return max(1, min(coded_frames, shown))
    return coded_frames
