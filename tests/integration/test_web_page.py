"""The page `uptrack serve` serves at `/`, driven in headless Chromium: pick the sample, upload, watch it drawn.

Needs the Debian `chromium` package (`make browser` installs it) and the `playwright` Python package (driving that
Chromium; Playwright's own browser download is never used). `UPTRACK_SCREENSHOT=docs/screenshot-web.png` keeps
the screenshot.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import cv2
import pytest

from tests.conftest import SAMPLE_VIDEO
from tests.integration.test_local_stack import Server, server  # noqa: F401 - the module's own stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_AT_S = 5.3
"""The bottom of the sample's second squat: skeleton deep in the squat, first rep counted and graded."""

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")


def seek(page: Any, seconds: float) -> None:
    """Pause the video at `seconds` and let the overlay draw that frame."""
    page.evaluate(
        """(seconds) => new Promise((done) => {
            const video = document.getElementById("video");
            video.pause();
            video.addEventListener("seeked", () => requestAnimationFrame(() => requestAnimationFrame(done)),
                                   { once: true });
            video.currentTime = seconds;
        })""",
        seconds,
    )


def drawn_pixels(page: Any) -> int:
    return int(
        page.evaluate(
            """() => {
                const canvas = document.getElementById("overlay");
                const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                let count = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count += 1;
                return count;
            }"""
        )
    )


@pytest.mark.slow
def test_page_uploads_the_sample_and_draws_skeleton_count_and_grades(server: Server, tmp_path: Path) -> None:  # noqa: F811
    shot = Path(os.environ.get("UPTRACK_SCREENSHOT") or tmp_path / "web.png")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(f"{server.info.base_url}/")
            page.wait_for_selector("#exercise option[value=squat]", state="attached")
            assert page.input_value("#token") == server.info.token
            page.set_input_files("#file", str(SAMPLE_VIDEO))
            page.select_option("#exercise", "squat")
            page.click("#start")
            page.wait_for_selector("body[data-state=done]", timeout=180_000)

            messages: list[dict[str, Any]] = page.evaluate("() => window.uptrackMessages")
            assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
            final = next(m for m in messages if m["type"] == "counter" and m.get("final"))
            assert final["current_count"] == 2
            assert sum(m["type"] == "keypoints" for m in messages) > 50  # keypoints=true&angles=false
            assert not any(m["type"] == "angles" for m in messages)
            assert page.locator("#log li").count() == len(messages)
            assert page.locator("#reps li").count() == 2
            assert page.locator("#reps li .grade").all_inner_texts() == [
                m["form_score"]["grade"] for m in messages if m["type"] == "counter" and not m.get("final")
            ]

            seek(page, 7.0)  # the end: every rep counted
            assert page.inner_text("#count") == "2"
            seek(page, SCREENSHOT_AT_S)
            assert page.inner_text("#count") == "1"
            assert page.inner_text("#grade") in "ABCDEF"
            assert drawn_pixels(page) > 2000, "the skeleton is drawn over the paused frame"
            page.screenshot(path=str(shot), full_page=True)
            assert errors == []
        finally:
            browser.close()
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[1] == 1280
