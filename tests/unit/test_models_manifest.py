"""The committed ONNX files are exactly what models/build.sh recorded, and load in onnxruntime."""

from __future__ import annotations

import hashlib
import json

import pytest
from uptrack.pose.runtime import REPO_MODELS_DIR, OnnxModel

MANIFEST = json.loads((REPO_MODELS_DIR / "MANIFEST.json").read_text())
SHIPPED = [entry for entry in MANIFEST["models"] if entry.get("shipped")]


def test_the_default_and_blazepose_models_are_shipped() -> None:
    names = {entry["file"] for entry in SHIPPED}
    assert {
        "movenet_lightning.onnx",
        "movenet_thunder.onnx",
        "blazepose_detector.onnx",
        "blazepose_landmark_lite.onnx",
        "blazepose_landmark_full.onnx",
    } <= names


@pytest.mark.parametrize("entry", SHIPPED, ids=lambda e: e["file"])
def test_committed_file_matches_recorded_sha256(entry: dict[str, object]) -> None:
    data = (REPO_MODELS_DIR / str(entry["file"])).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    source = entry["source"]
    assert isinstance(source, dict) and source["package"] and source["sha256"]


@pytest.mark.parametrize("entry", SHIPPED, ids=lambda e: e["file"])
def test_model_loads_with_the_recorded_input(entry: dict[str, object]) -> None:
    model = OnnxModel(REPO_MODELS_DIR / str(entry["file"]))
    recorded = MANIFEST["tensor_names"][entry["file"]]["inputs"]
    assert model.input_name in recorded


def test_licence_notices_ship_with_the_models() -> None:
    assert (REPO_MODELS_DIR / "LICENSE-Apache-2.0.txt").is_file()
    assert "Apache" in (REPO_MODELS_DIR / "NOTICE.md").read_text()


def test_telemetry_is_switched_off_before_a_session_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    calls: list[str] = []
    real_session = onnxruntime.InferenceSession

    def session(*args: object, **kwargs: object) -> object:
        calls.append("session")
        return real_session(*args, **kwargs)

    monkeypatch.setattr(onnxruntime, "disable_telemetry_events", lambda: calls.append("disable_telemetry"))
    monkeypatch.setattr(onnxruntime, "InferenceSession", session)
    OnnxModel(REPO_MODELS_DIR / "movenet_lightning.onnx")
    assert calls == ["disable_telemetry", "session"]
