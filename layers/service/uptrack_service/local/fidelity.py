"""Where one process running moto and every function differs from AWS in ways that break the service's guarantees.

`install()` (idempotent, called by `LocalStack.start`) patches two of them:

* **DynamoDB writes are atomic on AWS, not in moto.** moto applies an UpdateItem as read, compute, write in the
  server thread that handles the request, without a lock: two concurrent `SET next_seq = next_seq + :n` on one item
  lose an update (measured: 360 of 400 increments with 16 threads). Delivery's `reserve` relies on that atomicity to
  give each stage its own `seq` range; under load two stages got the same seqs. The answer is built outside the
  write, too: moto reads `ReturnValues` from the live item after the update, so a concurrent update shows through
  (two token-usage increments both answered 3, 5 rounds in 100). Every moto DynamoDB item request is serialised
  here, from parsing it to building its answer.
* **CPython 3.11's AST builder is not thread-safe.** It keeps its recursion counter per interpreter, so two threads
  in `ast.parse` at once can fail with `SystemError: AST constructor recursion depth mismatch`. On AWS each function
  has its own process; here moto's ASL parser (`ast.literal_eval` for every string of a definition, once per
  execution and Map item) and the functions' numpy (`np.load` reads .npz headers with `ast.literal_eval`) share one
  interpreter and many threads. `ast.parse` is serialised process-wide.
"""

from __future__ import annotations

import ast
import functools
import threading
from collections.abc import Callable
from typing import Any, Final

_PATCHED: Final = "_uptrack_serialised"
DYNAMODB_ITEM_REQUESTS: Final = (
    "put_item",
    "update_item",
    "delete_item",
    "get_item",
    "batch_write_item",
    "transact_write_items",
)
"""moto's request handlers (`DynamoHandler` methods) that read or write items."""


def _serialised(function: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    if getattr(function, _PATCHED, False):
        return function

    @functools.wraps(function)
    def serialised(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return function(*args, **kwargs)

    setattr(serialised, _PATCHED, True)
    return serialised


_ast_lock = threading.RLock()
_dynamodb_lock = threading.RLock()


def serialise_ast_parse() -> None:
    ast.parse = _serialised(ast.parse, _ast_lock)


def atomic_dynamodb_items() -> None:
    from moto.dynamodb.responses import DynamoHandler

    for name in DYNAMODB_ITEM_REQUESTS:
        setattr(DynamoHandler, name, _serialised(getattr(DynamoHandler, name), _dynamodb_lock))


def install() -> None:
    serialise_ast_parse()
    atomic_dynamodb_items()
