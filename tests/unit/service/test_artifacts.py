"""What each deployment artifact carries: only the service's runtime, never the CLI, the tools or the local stack.

The zip functions get `uptrack_service` from ServiceLayer, built by `layers/service/Makefile`; the image functions
get it from the Dockerfile's COPY lines. Both must carry the runtime packages and nothing a Lambda never runs, and
every zip handler must import from exactly what the layer holds (a clean interpreter, no editable install).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from uptrack_service.local.template import functions, load_template

from tests.conftest import REPO

SERVICE = REPO / "layers" / "service"
RUNTIME = {"adapters", "api", "pipeline"}
DEVELOPER_ONLY = {"cli", "tools", "local", "web"}


@pytest.fixture(scope="module")
def layer_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("service-layer")
    subprocess.run(["make", "-s", "-C", str(SERVICE), "runtime", f"ARTIFACTS_DIR={artifacts}"], check=True)
    return artifacts / "python"


def test_service_layer_holds_the_runtime_packages_only(layer_python: Path) -> None:
    package = layer_python / "uptrack_service"
    folders = {path.name for path in package.iterdir() if path.is_dir()}
    assert folders == RUNTIME
    shipped = {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    source = {
        path.relative_to(SERVICE / "uptrack_service").as_posix()
        for path in (SERVICE / "uptrack_service").rglob("*.py")
        if path.relative_to(SERVICE / "uptrack_service").parts[0] not in DEVELOPER_ONLY
    }
    assert shipped == source


def test_every_zip_handler_imports_from_the_layer_alone(layer_python: Path) -> None:
    """`python -S`: no site hooks, so the editable install cannot lend a module the layer lacks."""
    site_packages = sysconfig.get_paths()["purelib"]
    zip_functions = [spec for spec in functions(load_template(REPO / "template.yaml"), REPO).values()]
    zip_functions = [spec for spec in zip_functions if spec.package_type == "Zip"]
    assert len(zip_functions) >= 8
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true"}
    for spec in zip_functions:
        path = [str(spec.module_path.parent), str(layer_python), str(REPO / "layers" / "core"), site_packages]
        code = f"import sys; sys.path[:0] = {path!r}; import app; assert callable(app.{spec.attribute})"
        result = subprocess.run([sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{spec.logical_id}: {result.stderr[-2000:]}"


def test_the_image_copies_the_runtime_packages_only() -> None:
    dockerfile = (REPO / "functions" / "inference" / "Dockerfile").read_text(encoding="utf-8")
    sources = [
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ")
        for source in line.split()[1:-1]
        if source.startswith("layers/service/")
    ]
    copied = {re.sub(r"^layers/service/uptrack_service/?", "", source).split("/")[0] for source in sources}
    assert copied >= RUNTIME
    assert not copied & DEVELOPER_ONLY
