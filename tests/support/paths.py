"""Where the tests find the repository, the bundled sample and the shared real media (beside the checkout)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MEDIA = (REPO / ".." / "shared" / "media").resolve()
SAMPLE_VIDEO = REPO / "samples" / "squat_rear_2reps_cc-by-3.0.mp4"
