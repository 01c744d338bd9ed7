"""The hosted Upload Tracking page (`/pose_tracker/upload_tracking`), driven in headless Chromium as apps embed it.

* A host page on another origin embeds it in an iframe and records `message` events: for a shared clip it gets,
  in order, what `uptrack upload` prints for the same query (same types, same fields, same results), plus
  PoseTracker's "Your video is processing … (N%)" `initialization` beside each `progress`.
* Opened with injected `ReactNativeWebView`, `webkit.messageHandlers.iosListener` and `webViewCallback` shims (as
  the vendor's React Native, iOS and Android clients do), each bridge gets every message, at phone size.
* A bad query (no token, an unknown exercise, exercise together with reference) arrives as the contract's `error`.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.integration.test_local_stack import UPTRACK, Server, server, serving  # noqa: F401 - the stack
from tests.integration.test_web_page import CHROMIUM, CHROMIUM_ARGS, shots_dir, sync_api
from tests.support.paths import SAMPLE_VIDEO

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")

PAGE_PATH = "/pose_tracker/upload_tracking"
PROCESSING = "Your video is processing, please stay on this page"
ANALYSIS_TIMEOUT_MS = 300_000
SHARED_CLIP = "squat/squat_side_man_3reps_yuyoujiang.mp4"
"""A shared clip (10.7 s, 3 squats) in H.264, which Chromium plays (MPEG-4 Part 2 clips it cannot show)."""
SHOT_AT_S = 5.5
"""Past the first rep of both clips used here (the sample's at 3.3 s, the shared clip's near 3 s)."""
BRIDGE_SHIMS = """
    window.bridged = { reactNative: [], ios: [], android: [] };
    window.ReactNativeWebView = { postMessage: (text) => window.bridged.reactNative.push(text) };
    window.webkit = { messageHandlers: { iosListener: { postMessage: (text) => window.bridged.ios.push(text) } } };
    window.webViewCallback = (text) => window.bridged.android.push(text);
"""
ENDED = """(texts) => texts.some((text) => {
    const m = JSON.parse(text);
    return m.type === "error" || m.message === "Analysis completed";
})"""


def pause_after(target: Any, seconds: float) -> None:
    """Let the page (or frame) replay the analysed video, and pause it once past `seconds` (a rep drawn)."""
    target.wait_for_function(f"() => document.getElementById('video').currentTime > {seconds}", timeout=30_000)
    target.evaluate(
        """() => new Promise((done) => {
            document.getElementById("video").pause();
            requestAnimationFrame(() => requestAnimationFrame(done));
        })"""
    )


def host_page(page_url: str) -> str:
    """An app's page embedding uptrack's like PoseTracker's: the iframe, and every `message` event kept."""
    return f"""<!doctype html><title>host</title>
        <script>window.received = []; window.addEventListener("message", (event) => window.received.push(event.data));
        </script><iframe src="{page_url}" width="390" height="700" allow="autoplay"></iframe>"""


@contextmanager
def app_origin(html: str) -> Iterator[str]:
    """The app's own web server (another origin than the stack's), serving its page that embeds uptrack's."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def free_plan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A stack and a free-plan token of it (no keypoints, angles, export… while an exercise runs)."""
    home = tmp_path_factory.mktemp("uptrack-free-home")
    made = subprocess.run(
        [*UPTRACK, "token", "create", "--owner", "free-user", "--plan", "free"],
        env={**os.environ, "UPTRACK_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    )
    with serving(home) as stack:
        yield stack, json.loads(made.stdout)["token"]


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def page_url(stack: Server, **query: str) -> str:
    return f"{stack.info.base_url}{PAGE_PATH}?{urlencode(query)}"


def uploaded(stack: Server, path: Path, *flags: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*UPTRACK, "upload", str(path), *flags, "--format", "json"],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def shape(messages: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    return [(m["type"], sorted(m)) for m in messages]


def results(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The analysis results without what differs between two uploads (their ids and positions)."""
    kept = ("counter", "form_score", "exercise_summary", "posture", "initialization", "environment")
    return [{k: v for k, v in m.items() if k not in ("seq", "uploadId")} for m in messages if m["type"] in kept]


@pytest.mark.slow
def test_an_iframe_host_receives_what_uptrack_upload_receives(
    server: Server,  # noqa: F811
    media_dir: Path,
    tmp_path: Path,
) -> None:
    clip = media_dir / SHARED_CLIP
    url = page_url(server, token=server.info.token, exercise="squat", uploadLabel="Send your squats")
    with sync_api.sync_playwright() as playwright, app_origin(host_page(url)) as origin:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            page.goto(f"{origin}/workout")
            frame = page.frame_locator("iframe")
            assert frame.locator("#picker-label").inner_text() == "Send your squats"
            frame.locator("#file").set_input_files(str(clip))
            page.wait_for_function(f"() => ({ENDED})(window.received)", timeout=ANALYSIS_TIMEOUT_MS)
            received: list[Any] = page.evaluate("() => window.received")
            pause_after(page.frames[1], SHOT_AT_S)
            page.screenshot(path=str(shots_dir(tmp_path) / "upload-tracking-iframe.jpg"), type="jpeg", quality=70)
        finally:
            browser.close()
    assert all(isinstance(text, str) for text in received), "PoseTracker posts JSON strings to the parent"
    messages = [json.loads(text) for text in received]
    from_service = [m for m in messages if "seq" in m]
    processing = [m for m in messages if "seq" not in m]
    expected = uploaded(server, clip, "--exercise", "squat")
    assert shape(from_service) == shape(expected)
    assert results(from_service) == results(expected)
    assert [m["seq"] for m in from_service] == sorted(m["seq"] for m in from_service)
    # the page rounds as JavaScript does (Math.round: halves up; Python's round() would make 74.5 into 74)
    percents = [math.floor(m["percent"] + 0.5) for m in from_service if m["type"] == "progress"]
    assert [m["message"] for m in processing] == [f"{PROCESSING} ({p}%)" for p in percents]
    assert messages[0]["message"] == "loading video" and messages[-1]["message"] == "Analysis completed"


@pytest.mark.slow
def test_every_native_bridge_gets_every_message_at_phone_size(server: Server, tmp_path: Path) -> None:  # noqa: F811
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page.add_init_script(BRIDGE_SHIMS)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_url(server, token=server.info.token, exercise="squat", isMobile="true"))
            picker = page.locator("#picker").bounding_box()
            assert picker is not None and picker["width"] > 300, "a thumb-sized upload button on a phone"
            page.set_input_files("#file", str(SAMPLE_VIDEO))
            page.wait_for_function(f"() => ({ENDED})(window.bridged.android)", timeout=ANALYSIS_TIMEOUT_MS)
            pause_after(page, SHOT_AT_S)
            bridged: dict[str, list[str]] = page.evaluate("() => window.bridged")
            drawn: dict[str, str] = page.evaluate("() => ({ ...document.getElementById('overlay').dataset })")
            video = page.locator("#video").bounding_box()
            page.screenshot(path=str(shots_dir(tmp_path) / "upload-tracking-phone.jpg"), type="jpeg", quality=70)
        finally:
            browser.close()
    assert bridged["reactNative"] == bridged["ios"] == bridged["android"]
    messages = [json.loads(text) for text in bridged["ios"]]
    types = [m["type"] for m in messages]
    assert "keypoints" not in types, "keypoints the page asked for itself are not the host's"
    assert messages[-1] == {**messages[-1], "type": "initialization", "message": "Analysis completed", "ready": True}
    assert next(m for m in messages if m["type"] == "counter" and m.get("final"))["current_count"] == 2
    assert drawn["count"] == "1" and drawn["grade"] in "ABCDEF", "the count and grade are drawn over the video"
    assert video is not None and video["width"] == 390 and video["height"] > 600
    assert errors == []


@pytest.mark.parametrize(
    ("query", "needs_file", "code"),
    [
        ({"exercise": "squat"}, False, "missing_token"),
        ({"token": "TOKEN", "exercise": "squats"}, True, "invalid_exercise"),
        ({"token": "TOKEN", "exercise": "squat", "reference": "my-move"}, True, "invalid_params"),
    ],
    ids=["missing-token", "invalid-exercise", "exercise-and-reference"],
)
def test_a_bad_query_arrives_through_the_bridge_as_an_error(
    server: Server,  # noqa: F811
    query: dict[str, str],
    needs_file: bool,
    code: str,
) -> None:
    query = {name: server.info.token if value == "TOKEN" else value for name, value in query.items()}
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.add_init_script(BRIDGE_SHIMS)
            page.goto(page_url(server, **query))
            if needs_file:
                page.set_input_files("#file", str(SAMPLE_VIDEO))
            page.wait_for_function(f"() => ({ENDED})(window.bridged.reactNative)", timeout=30_000)
            bridged: dict[str, list[str]] = page.evaluate("() => window.bridged")
            state = page.evaluate("() => document.body.dataset.state")
        finally:
            browser.close()
    assert bridged["reactNative"] == bridged["ios"] == bridged["android"]
    (error,) = [json.loads(text) for text in bridged["android"]]
    assert error["type"] == "error" and error["code"] == error["error"] == code
    assert state == "error"
    if code == "invalid_exercise":
        assert error["details"]["suggestions"] == ["squat"]


@pytest.mark.parametrize(("skeleton", "asks_keypoints"), [("true", True), ("false", False)])
def test_the_page_asks_for_keypoints_only_to_draw_a_skeleton(
    server: Server,  # noqa: F811
    skeleton: str,
    asks_keypoints: bool,
) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.goto(page_url(server, token=server.info.token, exercise="squat", skeleton=skeleton))
            with page.expect_request(lambda request: "/uploads?" in request.url) as created:
                page.set_input_files("#file", str(SAMPLE_VIDEO))
            url = created.value.url
            page.wait_for_selector("body[data-state=done]", timeout=ANALYSIS_TIMEOUT_MS)
            drawn = page.evaluate(
                """() => {
                    const canvas = document.getElementById("overlay");
                    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
                    let pixels = 0;
                    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) pixels += 1;
                    return pixels;
                }"""
            )
        finally:
            browser.close()
    assert ("keypoints=true" in url) is asks_keypoints
    assert f"skeleton={skeleton}" in url, "the host's query goes to the service as it is"
    assert drawn > 0, "the count badge is drawn either way"


@pytest.mark.slow
def test_a_free_plan_token_uses_the_page_without_keypoints(free_plan: tuple[Server, str]) -> None:
    stack, token = free_plan
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.add_init_script(BRIDGE_SHIMS)
            page.goto(page_url(stack, token=token, exercise="squat"))
            page.set_input_files("#file", str(SAMPLE_VIDEO))
            page.wait_for_function(f"() => ({ENDED})(window.bridged.ios)", timeout=ANALYSIS_TIMEOUT_MS)
            bridged: dict[str, list[str]] = page.evaluate("() => window.bridged")
        finally:
            browser.close()
    messages = [json.loads(text) for text in bridged["ios"]]
    assert not any(m["type"] == "error" for m in messages), "the page's own keypoints request is dropped, not fatal"
    assert next(m for m in messages if m["type"] == "counter" and m.get("final"))["current_count"] == 2
