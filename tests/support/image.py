"""The Lambda artifacts as a deployment would build them, without a Docker daemon.

`sam build` of the container image runs `functions/inference/Dockerfile` on a Lambda base image; `sam build` of the
zip functions installs their layers' requirements for the template's runtime. Neither can run here (no Docker) and
the development machine's newer glibc hides what the base lacks, so this module rebuilds what matters:

* the requirements resolved as wheels for the base's exact Python, architecture and glibc (`pip download
  --only-binary=:all:` with every manylinux tag the base's glibc accepts: pip never widens an explicit --platform);
* every ELF file inside those wheels (extension modules, bundled libraries, imageio-ffmpeg's ffmpeg) read for the
  GLIBC symbol versions it needs, which must not exceed the base's glibc;
* the build context made with Docker's own `.dockerignore` rules (the `docker` package's PatternMatcher, the code
  `docker build` uses in docker-py) and the Dockerfile's `COPY` lines applied to it, failing like `docker build`
  when a source is not in the context;
* a file tree laid out like the image (`/var/task`, the runtime's site-packages, `/opt/...`) that a clean
  interpreter of the base's Python (`python -S`) imports every handler from.

Downloads and installs are cached under `.cache/artifacts/` (git-ignored), keyed by the requirements and the base.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final

from docker.utils.build import exclude_paths
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

# The glibc under each Lambda Python base image and zip runtime: python3.11 and older run on Amazon Linux 2 (glibc
# 2.26), python3.12 and newer on Amazon Linux 2023 (glibc 2.34) (AWS Lambda developer guide, "Lambda runtimes").
LAMBDA_PYTHON_GLIBC: Final = {"3.9": (2, 26), "3.10": (2, 26), "3.11": (2, 26), "3.12": (2, 34), "3.13": (2, 34)}
LAMBDA_BASE: Final = re.compile(r"^public\.ecr\.aws/lambda/python:(?P<python>3\.\d+)(?:-(?P<arch>x86_64|arm64))?$")
# What the Lambda base images define: the handler code's folder and the runtime's own site-packages.
TASK_ROOT: Final = "/var/task"
_GLIBC: Final = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")
_WHEEL_ARCH: Final = {"x86_64": "x86_64", "arm64": "aarch64"}


class ArtifactError(AssertionError):
    """What `docker build` / `sam build` / the Lambda runtime would stop at, with its reason."""


@dataclass(frozen=True)
class Platform:
    """A Lambda runtime: Python version, architecture and the glibc of its Amazon Linux."""

    python: str
    architecture: str = "x86_64"

    @property
    def glibc(self) -> tuple[int, int]:
        if self.python not in LAMBDA_PYTHON_GLIBC:
            raise ArtifactError(f"no Lambda Python runtime {self.python}")
        return LAMBDA_PYTHON_GLIBC[self.python]

    @property
    def site_packages(self) -> str:
        return f"/var/lang/lib/python{self.python}/site-packages"

    def pip_options(self) -> list[str]:
        arch = _WHEEL_ARCH[self.architecture]
        major, newest = self.glibc
        tags = [f"manylinux_{major}_{minor}_{arch}" for minor in range(newest, 4, -1)]
        tags += [f"manylinux{alias}_{arch}" for alias in ("2014", "2010", "1")]
        options = [f"--platform={tag}" for tag in tags]
        return [*options, "--implementation=cp", f"--python-version={self.python}", "--only-binary=:all:"]

    def key(self) -> str:
        return f"py{self.python}-{self.architecture}-glibc{self.glibc[0]}.{self.glibc[1]}"


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    destination: str


@dataclass
class Dockerfile:
    base: str
    environment: dict[str, str] = field(default_factory=dict)
    copies: list[Copy] = field(default_factory=list)
    command: list[str] = field(default_factory=list)

    @property
    def platform(self) -> Platform:
        found = LAMBDA_BASE.match(self.base)
        if found is None:
            raise ArtifactError(f"{self.base} is not a Lambda Python base image")
        return Platform(found["python"], "arm64" if found["arch"] == "arm64" else "x86_64")


def _expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: variables.get(m[1], m[0]), text)


def parse_dockerfile(text: str) -> Dockerfile:
    """FROM, ENV, COPY and CMD of a single-stage Dockerfile (the instructions this repository's image uses)."""
    lines = re.sub(r"\\\n", " ", text).splitlines()
    variables = {"LAMBDA_TASK_ROOT": TASK_ROOT}
    parsed: Dockerfile | None = None
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            parsed = Dockerfile(base=rest.split()[0])
            continue
        if parsed is None:
            raise ArtifactError(f"{instruction} before FROM")
        if instruction == "ENV":
            name, _, value = rest.partition("=")
            variables[name.strip()] = parsed.environment[name.strip()] = _expand(value.strip(), variables)
        elif instruction == "COPY":
            if rest.startswith("--"):
                raise ArtifactError(f"COPY flags are not modelled: {line}")
            *sources, destination = (_expand(word, variables) for word in rest.split())
            parsed.copies.append(Copy(tuple(sources), destination))
        elif instruction == "CMD":
            parsed.command = list(json.loads(rest))
    if parsed is None:
        raise ArtifactError("no FROM in the Dockerfile")
    return parsed


# -- the build context and COPY ----------------------------------------------------------------------------------


def build_context(root: Path, dockerfile: str, dockerignore: str | None) -> set[str]:
    """The files `docker build` sends for this context: docker-py's own .dockerignore matching (its
    `APIClient.build` reads the file the same way: stripped lines, no blanks, no comments)."""
    patterns = [] if dockerignore is None else [line.strip() for line in dockerignore.splitlines()]
    patterns = [pattern for pattern in patterns if pattern and not pattern.startswith("#")]
    sent = exclude_paths(str(root), patterns, dockerfile=dockerfile)
    return {PurePosixPath(path).as_posix() for path in sent if (root / path).is_file()}


def _glob_matches(pattern: str, path: str) -> bool:
    """COPY's source globs follow Go's filepath.Match: `*` never crosses a `/`."""
    pattern_parts, path_parts = PurePosixPath(pattern).parts, PurePosixPath(path).parts
    return len(pattern_parts) == len(path_parts) and all(
        fnmatch.fnmatchcase(part, wanted) for part, wanted in zip(path_parts, pattern_parts, strict=True)
    )


def _sources(source: str, context: set[str]) -> list[tuple[str, str]]:
    """(context file, path below the copied item) for one COPY source; a folder copies its contents."""
    source = source.rstrip("/")
    if any(char in source for char in "*?["):
        return [(path, PurePosixPath(path).name) for path in sorted(context) if _glob_matches(source, path)]
    if source in context:
        return [(source, PurePosixPath(source).name)]
    below = sorted(path for path in context if path.startswith(f"{source}/"))
    return [(path, path[len(source) + 1 :]) for path in below]


def apply_copies(dockerfile: Dockerfile, repo: Path, context: set[str], image_root: Path) -> list[str]:
    """Lay the COPY results out under `image_root`; the image paths written. Raises like `docker build` for a
    source that matches nothing in the context."""
    written: list[str] = []
    for copy in dockerfile.copies:
        into_folder = copy.destination.endswith("/") or len(copy.sources) > 1
        for source in copy.sources:
            found = _sources(source, context)
            if not found:
                raise ArtifactError(f"COPY {source}: not found in the build context (excluded by .dockerignore?)")
            for path, below in found:
                single_file = len(found) == 1 and path == source
                target = copy.destination if single_file and not into_folder else f"{copy.destination}/{below}"
                destination = image_root / target.lstrip("/").replace("//", "/")
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(repo / path, destination)
                written.append("/" + destination.relative_to(image_root).as_posix())
    return written


# -- wheels for the base ------------------------------------------------------------------------------------------


def _run_pip(arguments: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING: Location")]
        raise ArtifactError("pip " + " ".join(arguments[:1]) + " failed:\n" + "\n".join(lines[-15:]))


def _requirements_key(requirements: Iterable[str], platform: Platform) -> str:
    digest = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    return f"{platform.key()}-{digest}"


def requirement_lines(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def resolve_wheels(requirements: list[str], platform: Platform, cache: Path) -> Path:
    """The folder of wheels pip resolves for `platform` (network on first use, then the cache)."""
    folder = cache / _requirements_key(requirements, platform) / "wheels"
    if (folder / ".complete").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _run_pip(["download", "--quiet", "--dest", str(folder), *platform.pip_options(), *requirements])
    (folder / ".complete").touch()
    return folder


def install_wheels(requirements: list[str], platform: Platform, cache: Path) -> Path:
    """The site-packages the base's `pip install -r` would make, from the resolved wheels only (offline)."""
    wheels = resolve_wheels(requirements, platform, cache)
    target = wheels.parent / "site-packages"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    options = ["--no-index", f"--find-links={wheels}", f"--target={target}", *platform.pip_options()]
    _run_pip(["install", "--quiet", "--no-compile", *options, *requirements])
    (target / ".complete").touch()
    return target


def elf_glibc_needs(data: bytes) -> tuple[int, int] | None:
    """The newest GLIBC_x.y symbol version an ELF file needs (None: not an ELF or needs no versioned glibc)."""
    if not data.startswith(b"\x7fELF"):
        return None
    newest: tuple[int, int] | None = None
    for section in ELFFile(io.BytesIO(data)).iter_sections():
        if not isinstance(section, GNUVerNeedSection):
            continue
        for _, auxiliaries in section.iter_versions():
            for auxiliary in auxiliaries:
                found = _GLIBC.match(str(auxiliary.name))
                if found:
                    version = (int(found[1]), int(found[2]))
                    newest = version if newest is None or version > newest else newest
    return newest


def wheel_glibc_needs(wheel: Path, cache: Path) -> dict[str, tuple[int, int]]:
    """Member path -> newest GLIBC version it needs, for every ELF file in the wheel (cached per wheel)."""
    record = cache / "glibc" / f"{wheel.name}.json"
    if record.exists():
        return {name: (pair[0], pair[1]) for name, pair in json.loads(record.read_text()).items()}
    needs: dict[str, tuple[int, int]] = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if member.is_dir() or member.file_size < 64:
                continue
            with archive.open(member) as handle:
                if handle.read(4) != b"\x7fELF":
                    continue
            version = elf_glibc_needs(archive.read(member))
            if version is not None:
                needs[member.filename] = version
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(needs, sort_keys=True))
    return needs


def glibc_violations(wheels: Path, platform: Platform, cache: Path) -> list[str]:
    """Every ELF file in the resolved wheels that needs a newer glibc than the base has."""
    return [
        f"{wheel.name}: {member} needs GLIBC_{need[0]}.{need[1]} > {platform.glibc[0]}.{platform.glibc[1]}"
        for wheel in sorted(wheels.glob("*.whl"))
        for member, need in wheel_glibc_needs(wheel, cache).items()
        if need > platform.glibc
    ]


# -- a clean interpreter of the base's Python --------------------------------------------------------------------


def lambda_python(version: str) -> str | None:
    """An interpreter of the runtime's Python version: `UPTRACK_LAMBDA_PYTHON`, `pythonX.Y` on PATH, or pyenv's."""
    candidates = [os.environ.get("UPTRACK_LAMBDA_PYTHON", ""), shutil.which(f"python{version}") or ""]
    candidates += sorted(str(p) for p in Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        probe = [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
        result = subprocess.run(probe, capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    return None


@dataclass(frozen=True)
class ImportResult:
    module: str
    ok: bool
    seconds: float
    error: str


def import_in_clean_interpreter(
    python: str, module: str, attribute: str, path: list[Path], environment: dict[str, str]
) -> ImportResult:
    """`python -S` (no site hooks, no editable install) with exactly `path` on sys.path: what Lambda's init runs."""
    code = (
        f"import sys, time; sys.path[:0] = {[str(p) for p in path]!r}; t = time.perf_counter(); "
        f"import importlib; handler = getattr(importlib.import_module({module!r}), {attribute!r}); "
        "assert callable(handler); print(time.perf_counter() - t)"
    )
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **environment}
    result = subprocess.run([python, "-S", "-c", code], env=env, capture_output=True, text=True, cwd=path[0])
    ok = result.returncode == 0
    return ImportResult(module, ok, float(result.stdout.strip() or 0) if ok else 0.0, result.stderr[-3000:])
