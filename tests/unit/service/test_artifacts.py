"""What each deployment artifact carries and whether it would run: the container image and the zip layers.

The zip functions get `uptrack_service` from ServiceLayer, built by `layers/service/Makefile`; the image functions
get it from the Dockerfile's COPY lines. Both must carry the runtime packages and nothing a Lambda never runs. With
no Docker daemon, `tests.support.image` rebuilds each artifact for its Lambda runtime (the Dockerfile's base, the
template's Runtime): wheels resolved for that Python and glibc, every ELF file's glibc needs checked, the build
context cut by Docker's own .dockerignore code, the COPY lines applied, and every handler imported by a clean
interpreter of the runtime's Python from exactly those files. Network to PyPI on first use; `.cache/artifacts` after.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from uptrack_service.api.web_page import HOSTED_FILES
from uptrack_service.local.template import FunctionSpec, functions, load_template

from tests.support.image import (
    ArtifactError,
    Dockerfile,
    Platform,
    apply_copies,
    build_context,
    glibc_violations,
    import_in_clean_interpreter,
    install_wheels,
    lambda_python,
    parse_dockerfile,
    requirement_lines,
    resolve_wheels,
    wheel_glibc_needs,
)
from tests.support.paths import REPO

SERVICE = REPO / "layers" / "service"
RUNTIME = {"adapters", "api", "pipeline"}
DEVELOPER_ONLY = {"cli", "tools", "local"}
WEB = "web"
"""The pages' files: the hosted Upload Tracking page's ship in the layer (WebPageFunction serves them); the local
page's (`uptrack serve`'s `/`) do not; the image functions serve no page."""
DOCKERFILE = "functions/inference/Dockerfile"
IMAGE_REQUIREMENTS = REPO / "functions" / "inference" / "requirements.txt"
CACHE = REPO / ".cache" / "artifacts"
TEMPLATE = load_template(REPO / "template.yaml")


def _specs(package_type: str) -> list[FunctionSpec]:
    return [spec for spec in functions(TEMPLATE, REPO).values() if spec.package_type == package_type]


def _template_platform() -> Platform:
    """The zip functions' runtime (Globals) and architecture."""
    function_globals: dict[str, Any] = TEMPLATE["Globals"]["Function"]
    runtime = str(function_globals["Runtime"])
    assert runtime.startswith("python3.")
    return Platform(runtime.removeprefix("python"), str(function_globals["Architectures"][0]))


def _python_for(platform: Platform) -> str:
    python = lambda_python(platform.python)
    if python is None:
        pytest.skip(f"no python{platform.python} here to import the handlers with (set UPTRACK_LAMBDA_PYTHON)")
    return python


def _lambda_environment(extra: dict[str, str]) -> dict[str, str]:
    return {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", **extra}


@pytest.fixture(scope="module")
def layer_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    artifacts = tmp_path_factory.mktemp("service-layer")
    subprocess.run(["make", "-s", "-C", str(SERVICE), "runtime", f"ARTIFACTS_DIR={artifacts}"], check=True)
    return artifacts / "python"


def test_service_layer_holds_the_runtime_packages_only(layer_python: Path) -> None:
    package = layer_python / "uptrack_service"
    folders = {path.name for path in package.iterdir() if path.is_dir()}
    assert folders == RUNTIME | {WEB}
    assert {path.name for path in (package / WEB).iterdir()} == set(HOSTED_FILES)
    local_page = {path.name for path in (SERVICE / "uptrack_service" / WEB).iterdir()} - set(HOSTED_FILES)
    assert {"index.html", "app.js"} <= local_page
    shipped = {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    source = {
        path.relative_to(SERVICE / "uptrack_service").as_posix()
        for path in (SERVICE / "uptrack_service").rglob("*.py")
        if path.relative_to(SERVICE / "uptrack_service").parts[0] not in DEVELOPER_ONLY
    }
    assert shipped == source


def test_every_zip_handler_imports_from_the_layers_alone(layer_python: Path) -> None:
    """The layers' requirements as wheels for the template's runtime (boto3 comes with the runtime: the image's pin
    stands in for it), imported by that runtime's Python with `-S`: no site hooks, so the editable install cannot
    lend a module the layers lack."""
    platform = _template_platform()
    boto3 = [line for line in requirement_lines(IMAGE_REQUIREMENTS) if line.startswith("boto3==")]
    layer_requirements = [REPO / "layers" / "core" / "requirements.txt", SERVICE / "requirements.txt"]
    requirements = [line for path in layer_requirements for line in requirement_lines(path)] + boto3
    site_packages = install_wheels(requirements, platform, CACHE)
    python = _python_for(platform)
    zip_functions = _specs("Zip")
    assert len(zip_functions) >= 8
    for spec in zip_functions:
        path = [spec.module_path.parent, layer_python, REPO / "layers" / "core", site_packages]
        result = import_in_clean_interpreter(python, "app", spec.attribute, path, _lambda_environment({}))
        assert result.ok, f"{spec.logical_id}: {result.error}"


# -- the container image ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return parse_dockerfile((REPO / DOCKERFILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def image_root(dockerfile: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The image's files as the COPY lines lay them out, from the context `.dockerignore` lets through."""
    context = build_context(REPO, DOCKERFILE, (REPO / ".dockerignore").read_text(encoding="utf-8"))
    root = tmp_path_factory.mktemp("image")
    apply_copies(dockerfile, REPO, context, root)
    return root


def test_the_image_base_is_the_templates_runtime(dockerfile: Dockerfile) -> None:
    assert dockerfile.platform == _template_platform()
    assert dockerfile.platform.glibc >= (2, 28), "onnxruntime, numpy and imageio-ffmpeg need glibc 2.28"


def test_the_image_requirements_are_wheels_the_base_can_load(dockerfile: Dockerfile) -> None:
    """pip resolves every pin as a wheel for the base, and no ELF file in them needs a newer glibc."""
    platform = dockerfile.platform
    wheels = resolve_wheels(requirement_lines(IMAGE_REQUIREMENTS), platform, CACHE)
    assert not glibc_violations(wheels, platform, CACHE)
    ffmpeg = [
        need
        for wheel in wheels.glob("imageio_ffmpeg-*.whl")
        for member, need in wheel_glibc_needs(wheel, CACHE).items()
        if "/binaries/ffmpeg" in member
    ]
    assert ffmpeg and max(ffmpeg) <= platform.glibc  # the bundled ffmpeg was found and read


def test_the_image_copies_the_runtime_packages_only(image_root: Path) -> None:
    package = image_root / "var" / "task" / "uptrack_service"
    assert {path.name for path in package.iterdir() if path.is_dir()} == RUNTIME
    shipped = {path.relative_to(package).as_posix() for path in package.rglob("*.py")}
    source = SERVICE / "uptrack_service"
    wanted = {
        path.relative_to(source).as_posix()
        for path in source.rglob("*.py")
        if path.relative_to(source).parts[0] not in DEVELOPER_ONLY
    }
    assert shipped == wanted
    assert list((image_root / "opt" / "uptrack" / "models").glob("*.onnx"))


def test_every_image_handler_imports_from_the_image_alone(dockerfile: Dockerfile, image_root: Path) -> None:
    """Each function's ImageConfig.Command, imported from /var/task and the base's site-packages only."""
    platform = dockerfile.platform
    site_packages = install_wheels(requirement_lines(IMAGE_REQUIREMENTS), platform, CACHE)
    python = _python_for(platform)
    environment = {
        name: str(image_root / value.lstrip("/")) if value.startswith("/") else value
        for name, value in dockerfile.environment.items()
    }
    image_functions = _specs("Image")
    assert len(image_functions) >= 6
    for spec in image_functions:
        command = str(TEMPLATE["Resources"][spec.logical_id]["Properties"]["ImageConfig"]["Command"][0])
        module, attribute = command.rsplit(".", 1)
        path = [image_root / "var" / "task", site_packages]
        result = import_in_clean_interpreter(python, module, attribute, path, _lambda_environment(environment))
        assert result.ok, f"{spec.logical_id} ({command}): {result.error}"


def test_copy_fails_like_docker_build_when_the_dockerignore_drops_a_source(
    dockerfile: Dockerfile, tmp_path: Path
) -> None:
    """The check can fail: a .dockerignore that no longer lets one handler through stops the build."""
    dockerignore = (REPO / ".dockerignore").read_text(encoding="utf-8")
    narrowed = "\n".join(line for line in dockerignore.splitlines() if "render_export" not in line)
    assert narrowed != dockerignore
    context = build_context(REPO, DOCKERFILE, narrowed)
    with pytest.raises(ArtifactError, match="render_export"):
        apply_copies(dockerfile, REPO, context, tmp_path)


# -- sam local invoke ---------------------------------------------------------------------------------------------


def _names_a_resource(value: Any) -> bool:
    """An environment value `sam local invoke` cannot resolve by itself: a resource's name, ARN or URL (parameter
    references resolve to their defaults)."""
    if not isinstance(value, dict):
        return False
    return "Ref" not in value or value["Ref"] not in TEMPLATE["Parameters"]


def test_the_local_invoke_env_file_gives_every_resource_variable() -> None:
    env = json.loads((REPO / "events" / "env.json").read_text(encoding="utf-8"))
    specs = functions(TEMPLATE, REPO)
    assert set(env) - {"Parameters"} <= set(specs)
    shared: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert {name for name, value in shared.items() if _names_a_resource(value)} <= set(env["Parameters"])
    for logical_id, spec in specs.items():
        needed = {name for name, value in spec.environment.items() if _names_a_resource(value)}
        assert needed <= set(env.get(logical_id, {})) | set(env["Parameters"]), logical_id
