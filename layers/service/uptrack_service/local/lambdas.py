"""Run the real handlers when moto invokes a Lambda (from Step Functions, `lambda.invoke`, the gateways).

moto funnels every invocation through `LambdaFunction._invoke_lambda(self, event) -> (payload, errored, logs)`,
which normally starts a Docker container. `install()` replaces it with an in-process call of the handler that
template.yaml names for that function (moto is pinned to 5.2.5 because this is an internal method). Errors come
back the way Lambda reports them: `{"errorMessage", "errorType"}` with the function error flag set.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from uptrack_service.local.template import FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]
log = logging.getLogger("uptrack.local")


@dataclass
class FakeContext:
    """The parts of LambdaContext that Powertools and our handlers read."""

    function_name: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


class HandlerRegistry:
    """Function name → the handler callable, loaded once from its file (every handler module is named `app`)."""

    def __init__(self, specs: Mapping[str, FunctionSpec]) -> None:
        self._specs = dict(specs)
        self._loaded: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.invocations: list[str] = []
        self.errors: list[tuple[str, str]] = []

    def handler(self, name: str) -> Handler:
        with self._lock:
            if name not in self._loaded:
                spec = self._specs[name]
                module = _load(spec.module_path, f"uptrack_fn_{spec.module_path.parent.name}")
                self._loaded[name] = getattr(module, spec.attribute)
            return self._loaded[name]

    def invoke(self, name: str, event: Any) -> tuple[str, bool, str]:
        """Call the handler like Lambda would: (JSON result, errored, logs)."""
        with self._lock:
            self.invocations.append(name)
        handler = self.handler(name)
        context = FakeContext(
            function_name=name,
            invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
            aws_request_id=str(uuid.uuid4()),
        )
        if isinstance(event, str | bytes):
            event = json.loads(event or "{}")
        try:
            result = handler(event if event is not None else {}, context)
        except Exception as exc:
            error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
            trace = traceback.format_exc()
            with self._lock:
                self.errors.append((name, trace))
            log.warning("function %s raised %s", name, trace)
            return json.dumps(error), True, trace
        return json.dumps(result), False, ""


def _load(path: Path, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # pydantic resolves a model's annotations through its module
    spec.loader.exec_module(module)
    return module


_original: Any = None


def install(registry: HandlerRegistry) -> None:
    """Route moto's Lambda invocations to `registry` (until `uninstall`)."""
    global _original
    from moto.awslambda.models import LambdaFunction

    if _original is None:
        _original = LambdaFunction._invoke_lambda

    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        return registry.invoke(str(self.function_name), event)

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    from moto.awslambda.models import LambdaFunction

    if _original is not None:
        LambdaFunction._invoke_lambda = _original  # type: ignore[method-assign]
        _original = None
