"""Pose engine: one small wrapper per ONNX model (preprocess → infer → postprocess) and video tracking."""
