"""The hosted Upload Tracking page on the deployed stack: `api.web_page` and WebPageFunction's handler.

The page must load from the HTTP API alone (every file it references is a route of the function and ships in the
layer), each file with its content type and cache rule, nothing else readable whatever the path, and its
`config.json` never carries a token.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from types import ModuleType
from typing import Any

import pytest
from uptrack.exercises.catalogue import EXERCISES
from uptrack_service.api.web_page import (
    CONFIG_FILE,
    HOSTED_FILES,
    PAGE_FILE,
    PAGE_PATHS,
    SHORT_CACHE,
    page_config,
    read_web_file,
    web_file,
)
from uptrack_service.local.lambdas import FakeContext
from uptrack_service.local.template import load_template
from uptrack_service.observability import metrics

from tests.support.paths import REPO

EVENT = json.loads((REPO / "events" / "web_page.json").read_text(encoding="utf-8"))
ROOT_REFERENCE = re.compile(r"""(?:src=|href=|from |fetch\()\s*["'](/[^"'?#]*)["']""")
"""A root path the page's files load: `src="/…"`, `href="/…"`, `import … from "/…"`, `fetch("/…")`."""
REFUSED = [
    "index.html",  # the local page's: not hosted
    "app.js",
    "../cli/main.py",
    "..%2Fapi%2Fweb_page.py",
    "%2e%2e%2fsettings.py",
    "UPLOAD_TRACKING.JS",
    "upload_tracking.js/",
    "upload_tracking.js%00",
    "",
]


def _handler_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("edge_web_page", REPO / "functions" / "web_page" / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def get(monkeypatch: pytest.MonkeyPatch) -> Any:
    """GET `path` through the handler, as API Gateway sends it (the route key a file route would carry)."""
    monkeypatch.setattr(metrics, "namespace", "uptrack-test")
    handler = _handler_module().handler

    def call(path: str, route: str | None = None) -> dict[str, Any]:
        event = json.loads(json.dumps(EVENT))
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["routeKey"] = event["requestContext"]["routeKey"] = f"GET {route or path}"
        return dict(handler(event, FakeContext(function_name="WebPageFunction")))

    return call


def _page_routes() -> set[str]:
    """The paths template.yaml routes to WebPageFunction."""
    events = load_template(REPO / "template.yaml")["Resources"]["WebPageFunction"]["Properties"]["Events"]
    assert {event["Properties"]["Method"] for event in events.values()} == {"GET"}
    return {str(event["Properties"]["Path"]) for event in events.values()}


def test_every_file_the_page_loads_is_routed_and_hosted() -> None:
    """What the page and its scripts load by root path is exactly what the template routes, besides the page."""
    loaded = {
        path
        for name in HOSTED_FILES
        for path in ROOT_REFERENCE.findall(read_web_file(name))
        if not name.endswith(".css")
    }
    assert {"/upload_tracking.js", "/stream.js", "/overlay.js", "/config.json"} <= loaded
    assert _page_routes() == set(PAGE_PATHS) | loaded
    assert {f"/{name}" for name in [*HOSTED_FILES, CONFIG_FILE]} == loaded | {f"/{PAGE_FILE}"}


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("upload_tracking.html", "text/html; charset=utf-8"),
        ("upload_tracking.js", "text/javascript; charset=utf-8"),
        ("stream.js", "text/javascript; charset=utf-8"),
        ("overlay.js", "text/javascript; charset=utf-8"),
        ("upload_tracking.css", "text/css; charset=utf-8"),
        ("config.json", "application/json"),
    ],
)
def test_each_file_has_its_content_type(name: str, content_type: str) -> None:
    found = web_file(name)
    assert found is not None and found.content_type == content_type and found.body


@pytest.mark.parametrize("name", REFUSED)
def test_no_other_name_is_served(name: str) -> None:
    assert web_file(name) is None


def test_the_config_names_every_exercise_and_no_token() -> None:
    config = page_config()
    assert set(config) == {"exercises", "defaultExercise", "skeleton", "minScore"}
    found = web_file(CONFIG_FILE)
    assert found is not None and json.loads(found.body) == json.loads(json.dumps(config))
    assert {entry["id"] for entry in json.loads(found.body)["exercises"]} == {e.id for e in EXERCISES}
    assert "token" not in found.body.lower() and "upt_" not in found.body


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_the_handler_serves_the_page_at_posetrackers_path(get: Any, path: str) -> None:
    response = get(path)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert response["headers"]["Cache-Control"] == "no-cache"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    assert response["body"] == read_web_file(PAGE_FILE)
    assert not response.get("isBase64Encoded")


def test_the_handler_serves_scripts_with_a_short_cache(get: Any) -> None:
    response = get("/stream.js", "/stream.js")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["headers"]["Cache-Control"] == SHORT_CACHE
    assert response["body"] == read_web_file("stream.js")


@pytest.mark.parametrize("name", [name for name in REFUSED if name and "/" not in name])
def test_the_handler_refuses_other_names_with_a_typed_404(get: Any, name: str) -> None:
    response = get(f"/{name}", "/{name}")
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "invalid_params"
    assert "Traceback" not in response["body"]


def test_the_handler_refuses_a_path_with_folders(get: Any) -> None:
    response = get("/web/../cli/main.py", "/web/../cli/main.py")
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["type"] == "error"
