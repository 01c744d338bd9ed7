"""`Orchestrator` over Step Functions, and `FetchLauncher` over an asynchronous Lambda invoke.

Executions are always named after the upload: the name is Step Functions' idempotency key, so a duplicated
S3 event cannot start a second analysis, and the sweeper finds a stuck upload's execution by it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError


class StepFunctionsOrchestrator:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: Mapping[str, Any]) -> bool:
        try:
            self._client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(payload, sort_keys=True)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def stop(self, name: str, cause: str) -> bool:
        """Stop the execution named `name` (the sweeper's stuck upload); False when none is running."""
        arn = self._arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"
        try:
            self._client.stop_execution(executionArn=arn, error="UploadStuck", cause=cause[:256])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("ExecutionDoesNotExist", "ValidationException"):
                return False
            raise
        return True


class LambdaFetchLauncher:
    def __init__(self, client: Any, function_name: str) -> None:
        self._client = client
        self._function = function_name

    def launch(self, upload_id: str) -> None:
        self._client.invoke(
            FunctionName=self._function, InvocationType="Event", Payload=json.dumps({"uploadId": upload_id})
        )
