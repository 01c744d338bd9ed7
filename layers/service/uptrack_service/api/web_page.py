"""The hosted Upload Tracking page, as the HTTP API serves it: its files and the `config.json` it reads.

PoseTracker apps open `/pose_tracker/upload_tracking?token=…&exercise=…` in a WebView or an iframe; switching to
uptrack changes only the host, so the page is served by the same HTTP API as the uploads (its own origin is the API
base: the page calls `/uploads` with no host, and the WebSocket URL arrives in the created upload). The files ship
in the service layer; only the names below are ever served, looked up as whole names, so no request can reach
another file (no `..`, no encoded slash, no other folder). `config.json` tells the page how to draw (exercises,
skeleton, confidence floor) and never carries a token: the page's token is the one in its own query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Final

from uptrack.exercises.catalogue import EXERCISES
from uptrack.pose.keypoints import DRAW_MIN_SCORE, SKELETON_EDGES

PAGE_FILE: Final = "upload_tracking.html"
PAGE_PATHS: Final = ("/pose_tracker/upload_tracking", "/upload_tracking")
"""PoseTracker's hosted page path (apps switch by changing the host only) and a short one."""
CONFIG_FILE: Final = "config.json"
HOSTED_FILES: Final = {
    PAGE_FILE: "text/html; charset=utf-8",
    "upload_tracking.js": "text/javascript; charset=utf-8",
    "upload_tracking.css": "text/css; charset=utf-8",
    "stream.js": "text/javascript; charset=utf-8",
    "overlay.js": "text/javascript; charset=utf-8",
}
"""The page and what it loads (by root paths, `/stream.js`): the files the service layer ships."""
DEFAULT_EXERCISE: Final = "squat"
REVALIDATE: Final = "no-cache"
"""The page and its config: checked on every load, so a redeploy is seen at once."""
SHORT_CACHE: Final = "public, max-age=300"
"""Scripts and styles: their names carry no version, so a browser keeps them five minutes at most."""


@dataclass(frozen=True)
class WebFile:
    """One response of the page's routes."""

    content_type: str
    body: str
    cache_control: str


def page_config() -> dict[str, object]:
    """What the page needs to draw: the exercises (name, reps or seconds), the skeleton's bones, the confidence
    below which a keypoint is not drawn, and the exercise a form preselects."""
    return {
        "exercises": [{"id": exercise.id, "name": exercise.name, "kind": exercise.kind} for exercise in EXERCISES],
        "defaultExercise": DEFAULT_EXERCISE,
        "skeleton": SKELETON_EDGES,
        "minScore": DRAW_MIN_SCORE,
    }


def read_web_file(name: str) -> str:
    """A file of the web folder, by its bare name (callers check the name against their own set first)."""
    return (resources.files("uptrack_service") / "web" / name).read_text(encoding="utf-8")


def web_file(name: str) -> WebFile | None:
    """The hosted page's file called `name` (`config.json` included), or None for any other name."""
    if name == CONFIG_FILE:
        return WebFile("application/json", json.dumps(page_config()), REVALIDATE)
    content_type = HOSTED_FILES.get(name)
    if content_type is None:
        return None
    cache = REVALIDATE if name == PAGE_FILE else SHORT_CACHE
    return WebFile(content_type, read_web_file(name), cache)
