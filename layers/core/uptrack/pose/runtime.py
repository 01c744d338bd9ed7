"""onnxruntime sessions configured for small CPU shares (2 vCPU here, fractions of a vCPU on Lambda).

Spin-waiting intra-op threads fight FFmpeg's decode threads and made inference 2–3× slower when
measured on 2 vCPUs, so spinning is always off. onnxruntime's telemetry events are switched off before a session
is made: a self-hosted analysis of users' videos reports nothing to anyone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

#: Where `models/build.sh` writes the ONNX files in a checkout; deployments pass their own folder.
REPO_MODELS_DIR = Path(__file__).resolve().parents[4] / "models"


class OnnxModel:
    """One ONNX graph with named inputs and outputs; the wrappers only see numpy arrays."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"model file missing: {path} (run `make models` or check UPTRACK_MODELS_DIR)")
        self.path = path
        ort.disable_telemetry_events()
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]

    def run(self, tensor: npt.NDArray[np.generic], outputs: list[str] | None = None) -> list[npt.NDArray[np.float32]]:
        result = self.session.run(outputs or self.output_names, {self.input_name: tensor})
        return [np.asarray(r) for r in result]
