"""docs/integrate.md's JavaScript example, run as it is written, in headless Chromium against `uptrack serve`.

The function is taken from the document (the first ```js block), so the example cannot drift from what works: it
must upload the sample, hear every message in `seq` order up to "Analysis completed", and hand back a refusal as
the contract `error`.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_local_stack import Server, server  # noqa: F401 - the stack
from tests.integration.test_web_page import CHROMIUM, CHROMIUM_ARGS, sync_api
from tests.support.paths import REPO, SAMPLE_VIDEO

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")

RUN = """async ([source, base, token, bytes, query]) => {
    const analyse = new Function(`${source}; return analyse;`)();
    const data = Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0));
    return analyse(base, token, new Blob([data], { type: "video/mp4" }), query);
}"""


def javascript_example() -> str:
    text = (REPO / "docs" / "integrate.md").read_text(encoding="utf-8")
    found = re.search(r"```js\n(.*?)```", text, re.DOTALL)
    assert found is not None, "docs/integrate.md has a ```js example"
    return found.group(1)


def run_example(stack: Server, path: Path, query: dict[str, str]) -> list[dict[str, Any]]:
    payload = base64.b64encode(path.read_bytes()).decode("ascii")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{stack.info.base_url}/upload_tracking")  # any page of the stack: the app's origin
            arguments = [javascript_example(), stack.info.base_url, stack.info.token, payload, query]
            return list(page.evaluate(RUN, arguments))
        finally:
            browser.close()


@pytest.mark.slow
def test_the_javascript_example_hears_the_whole_analysis(server: Server) -> None:  # noqa: F811
    messages = run_example(server, SAMPLE_VIDEO, {"exercise": "squat"})
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    assert messages[-1]["type"] == "initialization" and messages[-1]["message"] == "Analysis completed"
    final = next(m for m in messages if m["type"] == "counter" and m.get("final"))
    assert final["current_count"] == 2


def test_the_javascript_example_returns_a_refusal_as_the_error(server: Server) -> None:  # noqa: F811
    (error,) = run_example(server, SAMPLE_VIDEO, {"exercise": "squats"})
    assert error["type"] == "error" and error["code"] == "invalid_exercise"
    assert error["details"]["suggestions"] == ["squat"]
