"""DynamoDB conditional writes: a failed condition is an answer ("not now", "already done"), not an error."""

from __future__ import annotations

from typing import Any, Final

from botocore.exceptions import ClientError

CONDITION_FAILED: Final = "ConditionalCheckFailedException"


def condition_failed(exc: ClientError) -> bool:
    return bool(exc.response.get("Error", {}).get("Code") == CONDITION_FAILED)


def update_if(client: Any, **update: Any) -> bool:
    """`UpdateItem` with its `ConditionExpression`; False when the condition did not hold, other errors raised."""
    try:
        client.update_item(**update)
    except ClientError as exc:
        if condition_failed(exc):
            return False
        raise
    return True
