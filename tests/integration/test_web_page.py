"""The page `uptrack serve` serves at `/`, driven in headless Chromium: pick a clip, upload, watch it drawn.

Needs the Debian `chromium` package (`make browser` installs it) and the `playwright` Python package (driving that
Chromium; Playwright's own browser download is never used). `UPTRACK_SCREENSHOTS=docs/screenshots` keeps the
screenshots (desktop and 390×844, during and after the analysis, a rep exercise and a hold) for the docs.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_local_stack import Server, server  # noqa: F401 - the module's own stack
from tests.support.paths import SAMPLE_VIDEO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PLANK_CLIP = "plank/plank_forearm_camera-cut_hold_no_reps_greendjpt.mp4"
SWINGING_CURLS = "bicep_curl/curl_bad-form-3_then-good-form_bajpai.mp4"
PHOTO = "photos/skimage_astronaut_upper_body.png"
ANALYSIS_TIMEOUT_MS = 300_000
PAGE_TIMEOUT_MS = 120_000
"""Loading the page and acting on it: the stack started just before, beside other test processes on two cores (the
first load once took over 30 s there, Playwright's default)."""

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


def drawn(page: Any) -> dict[str, Any]:
    """What the overlay shows now: its count, unit and grade, and how many pixels it painted."""
    return dict(
        page.evaluate(
            """() => {
                const canvas = document.getElementById("overlay");
                const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                let pixels = 0;
                for (let i = 3; i < data.length; i += 4) if (data[i] > 0) pixels += 1;
                return { ...canvas.dataset, pixels };
            }"""
        )
    )


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("UPTRACK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(page: Any, folder: Path, name: str) -> None:
    """The page at desktop and at phone size (the same page, resized: the layout must follow)."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)
        page.screenshot(path=str(folder / f"page-{name}-{size}.jpg"), type="jpeg", quality=70, full_page=True)
    page.set_viewport_size(DESKTOP)


class Browser:
    """One Chromium page on the stack's `/`, with every failed request and page error recorded."""

    def __init__(self, playwright: Any, url: str) -> None:
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.page = self.browser.new_page(viewport=DESKTOP)
        self.page.set_default_timeout(PAGE_TIMEOUT_MS)
        self.failures: list[str] = []
        self.uploads: list[str] = []
        self.page.on("pageerror", lambda error: self.failures.append(str(error)))
        self.page.on("response", self._response)
        self.page.goto(url)
        self.page.wait_for_selector("#exercise option[value=plank]", state="attached")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.failures.append(f"{response.status} {response.url}")
        if response.request.method == "POST" and "/uploads?" in response.url:
            self.uploads.append(response.url)

    def messages(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate("() => window.uptrackMessages"))

    def close(self) -> None:
        self.browser.close()


def failed(form: dict[str, Any]) -> str:
    """What the rep list shows of the criterion a rep failed: its label and score; empty when it failed none."""
    name = form.get("failed_criterion")
    scored = {c["name"]: c for c in form["criteria"]}
    return f"{scored[name]['label']} {math.floor(scored[name]['score'] + 0.5)}" if name else ""  # JS Math.round


def analyse(session: Browser, path: Path, folder: Path, name: str, exercise: str | None = None) -> None:
    page = session.page
    page.set_input_files("#file", str(path))
    if exercise:
        page.select_option("#exercise", exercise)
    page.click("#start")
    if name:
        page.wait_for_selector("body[data-state=analysing]", timeout=ANALYSIS_TIMEOUT_MS)
        shoot(page, folder, f"{name}-during")
    page.wait_for_selector("body[data-state=done]", timeout=ANALYSIS_TIMEOUT_MS)


@pytest.mark.slow
def test_a_rep_exercise_is_drawn_and_listed_at_desktop_and_phone_size(server: Server, tmp_path: Path) -> None:  # noqa: F811
    folder = shots_dir(tmp_path)
    with sync_api.sync_playwright() as playwright:
        session = Browser(playwright, f"{server.info.base_url}/")
        try:
            page = session.page
            assert page.input_value("#token") == server.info.token  # loopback: config.json offers the dev token
            page.select_option("#min-grade", "C")
            page.select_option("#difficulty", "easy")
            analyse(session, SAMPLE_VIDEO, folder, "squat", "squat")
            messages = session.messages()
            assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
            final = next(m for m in messages if m["type"] == "counter" and m.get("final"))
            assert final["current_count"] == 2
            assert page.locator("#reps li").count() == 2
            assert page.locator("#reps li .grade").all_inner_texts() == [
                m["form_score"]["grade"] for m in messages if m["type"] == "counter" and not m.get("final")
            ]
            forms = [m["form_score"] for m in messages if m["type"] == "counter" and not m.get("final")]
            assert page.locator("#reps li .why").all_inner_texts() == [failed(f) for f in forms if failed(f)]
            assert "minGrade=C" in session.uploads[0] and "difficulty=easy" in session.uploads[0]
            seek(page, 7.0)
            assert drawn(page)["count"] == "2"
            seek(page, 5.3)  # the bottom of the second squat: the first rep counted and graded
            shown = drawn(page)
            assert (shown["count"], shown["unit"]) == ("1", "rep") and shown["grade"] in "ABCDEF"
            assert shown["pixels"] > 2000, "the skeleton is drawn over the paused frame"
            page.set_viewport_size(PHONE)
            video = page.locator("#video").bounding_box()
            ratio = page.evaluate("() => video.videoHeight / video.videoWidth")
            assert video is not None and video["width"] > 340, "the picture spans a phone's width"
            assert video["height"] == pytest.approx(video["width"] * ratio, abs=2), "at the clip's own shape"
            page.set_viewport_size(DESKTOP)
            shoot(page, folder, "squat-after")
            assert session.failures == [], "no page error and no failed request (favicon included)"
        finally:
            session.close()


@pytest.mark.slow
def test_the_rep_list_says_which_criterion_each_poor_rep_failed(
    server: Server,  # noqa: F811
    media_dir: Path,
    tmp_path: Path,
) -> None:
    with sync_api.sync_playwright() as playwright:
        session = Browser(playwright, f"{server.info.base_url}/")
        try:
            analyse(session, media_dir / SWINGING_CURLS, Path(), "", "bicep_curl")
            forms = [m["form_score"] for m in session.messages() if m["type"] == "counter" and not m.get("final")]
            shown = session.page.locator("#reps li").all_inner_texts()
            assert len(shown) == len(forms) == 4
            for text, form in zip(shown, forms, strict=True):
                assert text.endswith(failed(form)) if form["grade"] != "A" else "elbows" not in text
            assert sum("elbows still" in text for text in shown) == 3, "the three swinging curls say why"
            shoot(session.page, shots_dir(tmp_path), "curl-after")
            assert session.failures == []
        finally:
            session.close()


@pytest.mark.slow
def test_a_hold_is_shown_in_seconds(server: Server, media_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    folder = shots_dir(tmp_path)
    with sync_api.sync_playwright() as playwright:
        session = Browser(playwright, f"{server.info.base_url}/")
        try:
            page = session.page
            analyse(session, media_dir / PLANK_CLIP, folder, "plank", "plank")
            final = next(m for m in session.messages() if m["type"] == "counter" and m.get("final"))
            assert final["current_count"] > 0
            assert page.locator("#reps li").count() == 0, "seconds held are not reps"
            assert page.inner_text("#summary").startswith(f"Held {final['current_count']} s")
            assert page.text_content("#results-title") == "Hold"
            seek(page, 11.5)
            shown = drawn(page)
            assert shown["unit"] == "s" and int(shown["count"]) == final["current_count"]
            shoot(page, folder, "plank-after")
            assert session.failures == []
        finally:
            session.close()


@pytest.mark.slow
def test_a_photo_and_an_export_with_a_token_from_the_address(
    server: Server,  # noqa: F811
    media_dir: Path,
    tmp_path: Path,
) -> None:
    with sync_api.sync_playwright() as playwright:
        session = Browser(playwright, f"{server.info.base_url}/?token=from-the-address")
        try:
            page = session.page
            assert page.input_value("#token") == "from-the-address", "the address's token wins over config.json"
            page.fill("#token", server.info.token)
            analyse(session, media_dir / PHOTO, tmp_path, "")
            assert page.is_disabled("#exercise") and page.is_disabled("#export"), "a photo has no exercise"
            overlay = next(m for m in session.messages() if m["type"] == "image_overlay")
            assert page.get_attribute("#photo", "src") == overlay["data"]
            page.set_input_files("#file", str(SAMPLE_VIDEO))
            page.check("#export")  # enabled again by picking a video
            page.click("#start")
            page.wait_for_selector("body[data-state=done]", timeout=ANALYSIS_TIMEOUT_MS)
            export = next(m for m in session.messages() if m["type"] == "export_ready")
            assert page.is_visible("#download") and page.get_attribute("#download", "href") == export["url"]
            assert session.failures == []
        finally:
            session.close()
