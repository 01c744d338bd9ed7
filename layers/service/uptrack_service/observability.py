"""The service's only Powertools objects: every handler and logic module imports these three.

Service name, log level, metrics namespace and tracing switches come from the `POWERTOOLS_*` environment
variables the template sets in `Globals` (tests set `POWERTOOLS_TRACE_DISABLED=1` and `POWERTOOLS_DEV`).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
