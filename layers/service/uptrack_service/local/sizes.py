"""`python -m uptrack_service.local.sizes BUILD_DIR`: unzipped size of each built zip function with its layers.

Lambda's limit is 250 MB (262,144,000 bytes) for a function and all its layers, unzipped; reads `sam build`'s
output template (`BUILD_DIR/template.yaml`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from uptrack_service.local.template import load_template

LIMIT = 262_144_000


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def sizes(build: Path) -> list[tuple[str, int, int]]:
    """(function, own bytes, bytes with layers) for every zip function of the built template."""
    resources = load_template(build / "template.yaml")["Resources"]
    layer_bytes = {
        name: tree_bytes(build / str(r["Properties"]["ContentUri"]))
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::LayerVersion"
    }
    rows = []
    for name, resource in sorted(resources.items()):
        props = resource["Properties"]
        if resource["Type"] != "AWS::Serverless::Function" or props.get("PackageType") == "Image":
            continue
        own = tree_bytes(build / str(props["CodeUri"]))
        layers = sum(layer_bytes.get(str(layer.get("Ref")), 0) for layer in props.get("Layers", []))
        rows.append((name, own, own + layers))
    return rows


def main(argv: list[str]) -> int:
    build = Path(argv[0]) if argv else Path(".aws-sam/zip")
    rows = sizes(build)
    print(f"{'function':28} {'code':>10} {'with layers':>14}  (limit {LIMIT / 1e6:.0f} MB unzipped)")
    for name, own, total in rows:
        print(f"{name:28} {own / 1e3:>8.1f} kB {total / 1e6:>11.2f} MB")
    return 1 if any(total > LIMIT for _, _, total in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
