"""The whole SAM application on one machine: moto for AWS, the real handlers in-process, a WebSocket gateway.

`LocalStack` (in `stack.py`) reads template.yaml (tables, functions, routes, the state machine's substitutions),
creates the resources in a moto server, runs each function's real handler when moto invokes it, and serves the
HTTP API and a WebSocket API (with an API Gateway management endpoint) on localhost. The end-to-end tests and
`uptrack serve` both use it: `from uptrack_service.local.stack import LocalStack`.
"""
