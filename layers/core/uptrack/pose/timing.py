"""Per-stage wall-clock accounting (decode / preprocess / infer / postprocess) for the benchmark."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """Accumulates seconds per named stage; cheap enough to leave on in production."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start

    def per_frame_ms(self, frames: int) -> dict[str, float]:
        return {name: 1000.0 * total / max(frames, 1) for name, total in self.seconds.items()}
