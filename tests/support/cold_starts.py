"""Cold-start inputs of the cost model, measured on the image's own file set: `python -m tests.support.cold_starts`.

For each image handler on an upload's critical path (validation, inference, aggregation), in a fresh `python -S`
of the Lambda runtime's Python per run, with exactly the files the image holds (`tests.support.image`), the CPU
seconds of the process (`time.process_time`: the development machine is shared, so wall time measures the
neighbours; a Lambda at 1,769 MB has one vCPU of its own, so its wall time is close to this CPU time plus I/O):

* `import`: the handler module, as Lambda's init does (site-packages and /var/task compiled, as the image's
  `pip install` and `compileall` leave them; `--uncompiled`: /var/task as sources only, which a read-only
  /var/task would compile again on every cold start);
* `client`: the first boto3 client (the endpoint and model loading every function pays on its first call);
* `model`: loading the default pose model (only the inference function, on its first chunk).

Prints the median and the maximum over `--repeats` runs per handler; these are the figures docs/performance.md
feeds into `uptrack_service.tools.cost_model`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from tests.support.image import (
    apply_copies,
    build_context,
    install_wheels,
    lambda_python,
    parse_dockerfile,
    requirement_lines,
)
from tests.support.paths import REPO

CACHE: Final = REPO / ".cache" / "artifacts"
CRITICAL_PATH: Final = ("validate_upload.app", "infer_chunk.app", "aggregate.app")
PROBE: Final = """
import json, sys, time
sys.path[:0] = {path!r}
clock = time.process_time
began = clock()
import importlib
module = importlib.import_module({module!r})
imported = clock()
import boto3
boto3.client("s3", region_name="us-east-1")
client = clock()
model = 0.0
if {load_model!r}:
    from pathlib import Path
    from uptrack.pose.engine import EngineSettings, create_estimator
    t = clock()
    create_estimator(EngineSettings("movenet_lightning", 1, Path({models!r})))
    model = clock() - t
print(json.dumps({{"import": imported - began, "client": client - imported, "model": model}}))
"""


def _compile(python: str, folder: Path) -> None:
    subprocess.run([python, "-m", "compileall", "-q", "-j", "0", str(folder)], check=True, capture_output=True)


def measure(repeats: int, compiled: bool = True) -> dict[str, dict[str, list[float]]]:
    dockerfile = parse_dockerfile((REPO / "functions" / "inference" / "Dockerfile").read_text(encoding="utf-8"))
    platform = dockerfile.platform
    python = lambda_python(platform.python)
    if python is None:
        raise SystemExit(f"no python{platform.python} found (set UPTRACK_LAMBDA_PYTHON)")
    site = install_wheels(requirement_lines(REPO / "functions" / "inference" / "requirements.txt"), platform, CACHE)
    stamp = site / f".compiled-{platform.python}"
    if not stamp.exists():
        _compile(python, site)
        stamp.touch()
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        context = build_context(REPO, "functions/inference/Dockerfile", (REPO / ".dockerignore").read_text())
        apply_copies(dockerfile, REPO, context, root)
        task = root / "var" / "task"
        if compiled:
            _compile(python, task)
        models = str(root / dockerfile.environment["UPTRACK_MODELS_DIR"].lstrip("/"))
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": folder,
            "AWS_DEFAULT_REGION": "us-east-1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env |= {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
        for module in CRITICAL_PATH:
            runs: dict[str, list[float]] = {"import": [], "client": [], "model": []}
            code = PROBE.format(
                path=[str(task), str(site)], module=module, load_model=module == "infer_chunk.app", models=models
            )
            for _ in range(repeats):
                result = subprocess.run([python, "-S", "-c", code], env=env, capture_output=True, text=True, cwd=task)
                if result.returncode != 0:
                    raise SystemExit(f"{module}: {result.stderr[-2000:]}")
                for name, seconds in json.loads(result.stdout).items():
                    runs[name].append(seconds)
            results[module] = runs
        shutil.rmtree(root / "var", ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--uncompiled", action="store_true", help="/var/task without the build's bytecode")
    parser.add_argument("--json", type=Path, help="write the runs here (cost_model --cold-starts reads it)")
    args = parser.parse_args()
    results = measure(args.repeats, compiled=not args.uncompiled)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"{'handler':<22} {'import p50':>10} {'max':>6} {'client p50':>10} {'max':>6} {'model p50':>9} {'max':>6}")
    for module, runs in results.items():
        cells = []
        for name in ("import", "client", "model"):
            cells += [statistics.median(runs[name]), max(runs[name])]
        widths = (10, 6, 10, 6, 9, 6)
        print(f"{module:<22} " + " ".join(f"{cell:>{width}.3f}" for cell, width in zip(cells, widths, strict=True)))


if __name__ == "__main__":
    main()
