"""uptrack core: pose, reps and grades from workout videos, PoseTracker-compatible.

This package is pure (no AWS SDK): the CLI, the local stack and every Lambda call it the same way.
Sub-modules are imported explicitly so that light functions (the API's zip Lambdas) never pay for
onnxruntime or OpenCV.
"""

__version__ = "0.1.0"
