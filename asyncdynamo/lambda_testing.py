"""Run Lambda handlers locally: a faithful context object, cold and warm invocations.

```python
from asyncdynamo.lambda_testing import LambdaContext, LocalLambda, run_cold

# warm: repeated invocations in this process, through the handler's own entry point
fn = LocalLambda("app.handlers:process_payment")
first = fn.invoke({"payment_id": "p1"})
second = fn.invoke({"payment_id": "p2"})  # same loop, same client

# cold: a fresh process per call, then warm invocations in that same process
results = run_cold("app.handlers:process_payment", [{"payment_id": "p1"}, {"payment_id": "p2"}])
assert results[0].ok and results[0].value == {...}
```

The fresh process gets the variables the Lambda runtime sets (function name, memory size,
region...), so code that detects Lambda behaves as deployed. Handler results cross the process
boundary as JSON, as they do in Lambda.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "InvocationResult",
    "LambdaContext",
    "LocalLambda",
    "lambda_environ",
    "load_handler",
    "reset_lambda_process",
    "run_cold",
]

_RESULT_MARKER = "@@asyncdynamo-lambda-result@@ "


class LambdaContext:
    """A stand-in for the context object the Lambda Python runtime passes to handlers.

    It has the runtime's attributes (``memory_limit_in_mb`` is a string there, too) and its
    ``get_remaining_time_in_millis()`` counts down from ``timeout`` seconds after creation,
    never below zero.

    Args:
        timeout: seconds the invocation has; ``0`` makes a context with no time left.
        memory_limit_in_mb: the function's memory size.
        function_name: the function's name (also in the ARN and log group).
        aws_request_id: this invocation's id; a fresh UUID by default.
        region: region in the ARN.
        account_id: account in the ARN.
        clock: monotonic seconds (inject one to control the countdown).
    """

    def __init__(
        self,
        *,
        timeout: float = 3.0,
        memory_limit_in_mb: int = 128,
        function_name: str = "asyncdynamo-local",
        function_version: str = "$LATEST",
        aws_request_id: str | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._deadline = clock() + timeout
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = str(memory_limit_in_mb)
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"2026/01/01/[{function_version}]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation's timeout (0 once it passed)."""
        return max(0, int((self._deadline - self._clock()) * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"aws_request_id={self.aws_request_id!r}, "
            f"remaining_ms={self.get_remaining_time_in_millis()})"
        )


def lambda_environ(
    *,
    function_name: str = "asyncdynamo-local",
    memory_size_mb: int = 128,
    region: str = "us-east-1",
    python: str = f"{sys.version_info.major}.{sys.version_info.minor}",
) -> dict[str, str]:
    """The variables the Lambda runtime sets for a function (to run a handler as deployed)."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_size_mb),
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{python}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"2026/01/01/[$LATEST]{uuid.uuid4().hex}",
    }


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """Import ``"package.module:function"`` and return the function (the module is imported
    once per process, as Lambda does)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"handler must look like 'package.module:function', got {spec!r}")
    module = importlib.import_module(module_name)
    handler: Callable[[Any, Any], Any] = getattr(module, attribute)
    return handler


class LocalLambda:
    """Invoke a handler repeatedly in this process, as one warm container would.

    The handler is the synchronous entry point Lambda calls (e.g. one decorated with
    :func:`asyncdynamo.lambda_handler`); exceptions propagate unchanged.

    Args:
        handler: the entry point, or ``"package.module:function"`` to import.
        timeout: seconds each invocation's context has.
        memory_limit_in_mb: memory size reported by the contexts.
    """

    def __init__(
        self,
        handler: str | Callable[[Any, Any], Any],
        *,
        timeout: float = 3.0,
        memory_limit_in_mb: int = 128,
    ) -> None:
        self.handler = load_handler(handler) if isinstance(handler, str) else handler
        self.timeout = timeout
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invocations = 0

    def context(self) -> LambdaContext:
        """A fresh context for the next invocation."""
        return LambdaContext(timeout=self.timeout, memory_limit_in_mb=self.memory_limit_in_mb)

    def invoke(self, event: Any, context: Any = None) -> Any:
        """Call the handler with ``event`` and a fresh (or the given) context."""
        self.invocations += 1
        return self.handler(event, context if context is not None else self.context())


@dataclass(frozen=True, slots=True)
class InvocationResult:
    """One invocation's outcome, as reported by a fresh process.

    Attributes:
        value: the handler's JSON result (``None`` when it raised).
        error_type: the exception's class name, when it raised.
        error_message: ``str()`` of the exception.
        traceback: the formatted traceback, when it raised.
        duration_ms: wall time of the invocation inside the process.
    """

    value: Any = None
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error_type is None


def run_cold(
    handler: str,
    events: Sequence[Any],
    *,
    timeout: float = 30.0,
    memory_size_mb: int = 128,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    process_timeout: float = 120.0,
) -> list[InvocationResult]:
    """Invoke ``handler`` in a fresh Python process: the first event cold, the rest warm.

    Args:
        handler: ``"package.module:function"``, importable from ``cwd``.
        events: one event per invocation, in order (JSON-serializable).
        timeout: seconds each invocation's context has.
        memory_size_mb: the memory size the process is told it has.
        env: extra environment variables (endpoints, table names) on top of this process's
            environment and the Lambda runtime's variables.
        cwd: the working directory (on ``sys.path`` of the child); defaults to this one's.
        process_timeout: seconds before the child process is killed.

    Raises:
        RuntimeError: the child process crashed or printed no results.
    """
    child_env = {**os.environ, **lambda_environ(memory_size_mb=memory_size_mb), **(env or {})}
    request = json.dumps(
        {"handler": handler, "events": list(events), "timeout": timeout, "memory": memory_size_mb}
    )
    completed = subprocess.run(
        [sys.executable, "-m", "asyncdynamo.lambda_testing"],
        input=request,
        capture_output=True,
        text=True,
        env=child_env,
        cwd=cwd or os.getcwd(),
        timeout=process_timeout,
        check=False,
    )
    results = [
        InvocationResult(**json.loads(line[len(_RESULT_MARKER) :]))
        for line in completed.stdout.splitlines()
        if line.startswith(_RESULT_MARKER)
    ]
    if completed.returncode != 0 or len(results) != len(events):
        raise RuntimeError(
            f"the handler process exited with {completed.returncode} after "
            f"{len(results)} of {len(events)} invocations:\n{completed.stderr[-4000:]}"
        )
    return results


def _child_main() -> None:
    request = json.loads(sys.stdin.read())
    sys.path.insert(0, os.getcwd())
    handler = load_handler(request["handler"])
    for event in request["events"]:
        context = LambdaContext(timeout=request["timeout"], memory_limit_in_mb=request["memory"])
        started = time.perf_counter()
        outcome: dict[str, Any]
        try:
            value = handler(event, context)
        except Exception as exc:
            outcome = {
                "error_type": type(exc).__name__,
                "error_message": str(exc),
                "traceback": traceback.format_exc(),
            }
        else:
            outcome = {"value": value}
        outcome["duration_ms"] = (time.perf_counter() - started) * 1000
        print(_RESULT_MARKER + json.dumps(outcome, default=str), flush=True)


def reset_lambda_process() -> None:
    """Forget the process-wide Lambda state: runner (its loop closed), LambdaDB, invocations,
    the environment read. Call between tests that use :func:`asyncdynamo.lambda_handler` or
    :func:`asyncdynamo.new_lambda_optimized` in one process.
    """
    from . import _lambda_env, _runner
    from ._lambda import LambdaDB

    instance = LambdaDB._process_instance
    runner = _runner._PROCESS_RUNNER
    if (
        instance is not None
        and runner is not None
        and instance._loop is not None
        and instance._loop is runner._loop
        and not instance._loop.is_closed()
    ):
        runner.run(instance.aclose())  # its connections live on the runner's loop
    LambdaDB._process_instance = None
    _runner._reset_for_tests()
    _lambda_env._reset_for_tests()


if __name__ == "__main__":
    _child_main()
