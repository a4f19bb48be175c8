"""Run ``async def handler(event, context)`` as Lambda's synchronous entry point.

Lambda calls a plain function once per invocation. ``asyncio.run`` per invocation would create
and close an event loop each time, and closing the loop kills the client and its pooled
keep-alive connections, so every warm invocation would pay for new ones. The runner keeps **one
loop for the container's life** and runs each invocation with ``loop.run_until_complete``.

It also tracks invocations (for :meth:`LambdaDB.is_warm_start`), bounds each invocation by the
context's remaining time, and cancels whatever tasks an invocation leaves behind, so nothing of
one invocation runs on into the next.

Two deadlines end an invocation early, in this order::

    start ────────────── DB deadline ──── runner deadline ──── Lambda's timeout
                         (remaining −     (halfway between
                          timeout_buffer)  the two)

The DB deadline (:meth:`LambdaDB.with_lambda_timeout`) fires first, so the handler's own
``except LambdaTimeoutError`` runs and can answer; the runner cancels the handler only if it is
still running after that. Whatever ``timeout_buffer`` the DB has, the runner moves its deadline
after the DB's (:func:`note_db_deadline`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from ._errors import LambdaTimeoutError, UsageError
from ._lambda_env import default_timeout_buffer, lambda_environment

__all__ = [
    "LambdaContextLike",
    "LambdaRunner",
    "begin_invocation",
    "forget_invocations",
    "invocation_count",
    "lambda_handler",
    "note_db_deadline",
    "process_runner",
    "run_in_lambda_loop",
]

T = TypeVar("T")
E = TypeVar("E")
C = TypeVar("C")

_log = logging.getLogger("asyncdynamo.lambda")


class LambdaContextLike(Protocol):
    """What asyncdynamo needs from Lambda's context object (the runtime's one has more)."""

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before Lambda stops the invocation."""
        ...


# --- invocations seen by this process ---------------------------------------------------------

_invocations = 0
_last_request_id: str | None = None


def begin_invocation(request_id: str | None, *, new: bool = False) -> None:
    """Note that an invocation started.

    The same ``request_id`` twice in a row counts once (``with_lambda_timeout`` notes the
    invocation the runner already counted), unless ``new``: the runner knows each call is a new
    invocation, and Lambda retries a failed asynchronous invocation with the same request id.
    """
    global _invocations, _last_request_id
    if not new and request_id is not None and request_id == _last_request_id:
        return
    _invocations += 1
    _last_request_id = request_id


def forget_invocations() -> None:
    """Start counting invocations afresh (for tests)."""
    global _invocations, _last_request_id
    _invocations = 0
    _last_request_id = None


def invocation_count() -> int:
    """How many invocations this process has started (0 during the init phase)."""
    return _invocations


def _request_id(context: object) -> str | None:
    request_id = getattr(context, "aws_request_id", None)
    return request_id if isinstance(request_id, str) and request_id else None


# --- the runner's deadline, kept after every DB deadline -----------------------------------------


class _Bound:
    """The runner's deadline for the invocation in progress."""

    __slots__ = ("ends_at", "timeout")

    def __init__(self, timeout: asyncio.Timeout, ends_at: float) -> None:
        self.timeout = timeout
        self.ends_at = ends_at


_BOUND: ContextVar[_Bound | None] = ContextVar("asyncdynamo_runner_bound", default=None)


def note_db_deadline(deadline: float) -> None:
    """Keep the runner's deadline for this invocation after a DB deadline (``loop.time()``).

    Called by :meth:`LambdaDB.with_lambda_timeout`: the runner then cancels the handler halfway
    between that deadline and Lambda's timeout at the earliest, so the DB's
    :class:`LambdaTimeoutError` reaches the handler first, whatever its ``timeout_buffer``.
    Outside an invocation run by a :class:`LambdaRunner` it does nothing.
    """
    bound = _BOUND.get()
    if bound is None:
        return
    when = bound.timeout.when()
    if when is None or when > deadline:
        return
    bound.timeout.reschedule(min(bound.ends_at, deadline + (bound.ends_at - deadline) / 2))


# --- the runner --------------------------------------------------------------------------------


class LambdaRunner:
    """Runs coroutines on one event loop that lives as long as the runner.

    Most code uses the process-wide runner through :func:`lambda_handler` and
    :func:`run_in_lambda_loop`; create one directly to control its lifetime (tests).

    Args:
        handler_buffer: seconds before Lambda's own timeout at which a handler is cancelled and
            :class:`LambdaTimeoutError` raised, so the invocation ends cleanly instead of being
            killed. Defaults to half of the DB's default cleanup buffer for this memory size.
            Either way, once the handler calls :meth:`LambdaDB.with_lambda_timeout`, the runner
            waits until halfway between that DB's deadline and Lambda's timeout at the
            earliest: the DB gives up first and the handler has time to react.
        cleanup_grace: seconds to wait for tasks left behind by an invocation to finish
            cancelling.
    """

    def __init__(self, *, handler_buffer: float | None = None, cleanup_grace: float = 1.0) -> None:
        if handler_buffer is None:
            handler_buffer = default_timeout_buffer(lambda_environment()) / 2
        if handler_buffer < 0 or cleanup_grace < 0:
            raise UsageError("LambdaRunner buffers must not be negative")
        self.handler_buffer = handler_buffer
        self.cleanup_grace = cleanup_grace
        self._loop: asyncio.AbstractEventLoop | None = None
        # Tasks created during the invocation in progress (None between invocations).
        self._started: set[asyncio.Task[Any]] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runner's event loop (created on first use, kept until :meth:`close`)."""
        if self._loop is None or self._loop.is_closed():
            # Not installed with set_event_loop: code on the loop uses get_running_loop(), and
            # leaving the thread's current loop alone keeps the runner free of global effects.
            self._loop = asyncio.new_event_loop()
            self._loop.set_task_factory(self._task_factory)
        return self._loop

    def _task_factory(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **options: Any
    ) -> asyncio.Task[Any]:
        # Remembers the invocation's tasks, also those done before it ends: asyncio.all_tasks()
        # only lists pending ones, and a task that failed unobserved would be logged by asyncio
        # ("Task exception was never retrieved") whenever it is garbage-collected.
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **options)
        started = self._started
        if started is not None:
            started.add(task)
            task.add_done_callback(functools.partial(_forget_if_settled, started))
        return task

    def _check_not_nested(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        raise UsageError(
            "a Lambda handler wrapped by asyncdynamo runs its own event loop and cannot be "
            "called from async code; await the undecorated coroutine (handler.__wrapped__)"
        )

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` to completion on the runner's loop (for init code at module level).

        Tasks it starts keep running on the loop during later invocations (a background
        refresher started at init is meant to), unlike tasks left by an invocation.
        """
        try:
            self._check_not_nested()
        except UsageError:
            coro.close()
            raise
        return self.loop.run_until_complete(coro)

    def invoke(
        self,
        handler: Callable[[E, C], Coroutine[Any, Any, T]],
        event: E,
        context: C,
    ) -> T:
        """Run one invocation of ``handler`` and return its result.

        Exceptions from the handler propagate unchanged. The handler is cancelled (and
        :class:`LambdaTimeoutError` raised) ``handler_buffer`` seconds before the context's time
        runs out. Tasks the invocation created and left running are cancelled and awaited
        before this returns.
        """
        self._check_not_nested()
        loop = self.loop
        begin_invocation(
            _request_id(context) or f"asyncdynamo-local-{invocation_count() + 1}", new=True
        )
        before = asyncio.all_tasks(loop)
        main = loop.create_task(self._bounded(handler, event, context))
        started: set[asyncio.Task[Any]] = set()
        self._started = started
        try:
            return loop.run_until_complete(main)
        finally:
            self._started = None
            self._cancel_leftovers(loop, before, started)

    async def _bounded(
        self,
        handler: Callable[[E, C], Coroutine[Any, Any, T]],
        event: E,
        context: C,
    ) -> T:
        remaining_time = getattr(context, "get_remaining_time_in_millis", None)
        if remaining_time is None:
            return await _start(handler, event, context)  # local runs: no deadline
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + int(remaining_time()) / 1000
        deadline = ends_at - self.handler_buffer
        timeout = asyncio.timeout_at(deadline)
        token = _BOUND.set(_Bound(timeout, ends_at))
        try:
            async with timeout:
                return await _start(handler, event, context)
        except TimeoutError as exc:
            if not timeout.expired() or isinstance(exc, LambdaTimeoutError):
                raise  # the handler's own error, unchanged
            when = timeout.when()
            raise LambdaTimeoutError(
                "handler cancelled: the invocation's time ran out",
                operation="handler",
                remaining=(deadline if when is None else when) - loop.time(),
            ) from exc
        finally:
            _BOUND.reset(token)

    def _cancel_leftovers(
        self,
        loop: asyncio.AbstractEventLoop,
        before: set[asyncio.Task[Any]],
        started: Iterable[asyncio.Task[Any]] = (),
    ) -> None:
        leftovers = [task for task in asyncio.all_tasks(loop) if task not in before]
        for task in leftovers:
            task.cancel()
        pending: set[asyncio.Task[Any]] = set()
        if leftovers:
            _, pending = loop.run_until_complete(
                asyncio.wait(leftovers, timeout=self.cleanup_grace)
            )
        for task in dict.fromkeys([*started, *leftovers]):
            if task.done():
                _log_unobserved_failure(task)
            else:
                # It ignored cancellation: its failure, if any, is logged when it ends.
                task.add_done_callback(_log_unobserved_failure)
        if pending:
            _log.warning(
                "%d task(s) left by the invocation ignored cancellation: %s",
                len(pending),
                ", ".join(task.get_name() for task in pending),
            )

    def wrap(self, handler: Callable[[E, C], Coroutine[Any, Any, T]]) -> Callable[[E, C], T]:
        """The synchronous ``handler(event, context)`` Lambda calls, running ``handler``."""

        @functools.wraps(handler)
        def entry_point(event: E, context: C) -> T:
            return self.invoke(handler, event, context)

        return entry_point

    def close(self) -> None:
        """Cancel what still runs on the loop and close it (a later use makes a new one)."""
        loop, self._loop = self._loop, None
        if loop is None or loop.is_closed():
            return
        self._cancel_leftovers(loop, set())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _forget_if_settled(started: set[asyncio.Task[Any]], task: asyncio.Task[Any]) -> None:
    # Only tasks that may end with an unretrieved exception stay remembered (memory stays
    # bounded in invocations that start many tasks). ``_log_traceback``: see below.
    if task.cancelled() or not getattr(task, "_log_traceback", True):
        started.discard(task)


def _log_unobserved_failure(task: asyncio.Task[Any]) -> None:
    """Retrieve a swept task's exception and log it once, unless someone already retrieved it."""
    if task.cancelled():
        return
    # asyncio's own "was never retrieved" flag (on both the C and the Python Task): False once
    # anyone called result()/exception(), e.g. the handler that awaited the task.
    unobserved = getattr(task, "_log_traceback", True)
    error = task.exception()  # retrieved: asyncio will not log it again at garbage collection
    if error is None or not unobserved:
        return
    _log.warning(
        "a task the invocation started and left failed: %s: %s",
        type(error).__name__,
        error,
        exc_info=error,
        extra={"task_name": task.get_name(), "error_type": type(error).__name__},
    )


def _start(handler: Callable[[E, C], Coroutine[Any, Any, T]], event: E, context: C) -> Awaitable[T]:
    awaitable = handler(event, context)
    if not inspect.isawaitable(awaitable):
        name = getattr(handler, "__qualname__", repr(handler))
        raise UsageError(
            f"{name} returned {type(awaitable).__name__}, not an awaitable: the asyncdynamo "
            "Lambda runner runs `async def handler(event, context)` functions"
        )
    return awaitable


_PROCESS_RUNNER: LambdaRunner | None = None


def process_runner() -> LambdaRunner:
    """The process-wide runner behind :func:`lambda_handler` (created on first use)."""
    global _PROCESS_RUNNER
    if _PROCESS_RUNNER is None:
        _PROCESS_RUNNER = LambdaRunner()
    return _PROCESS_RUNNER


def lambda_handler(
    handler: Callable[[E, C], Coroutine[Any, Any, T]],
) -> Callable[[E, C], T]:
    """Turn ``async def handler(event, context)`` into the entry point Lambda calls.

    Every invocation runs on one event loop kept for the container's life, so the client and its
    pooled connections survive across warm invocations.

    ```python
    db = run_in_lambda_loop(new_lambda_optimized(LambdaConfig()))
    db.pre_register_models(Payment)

    @lambda_handler
    async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        ldb = db.with_lambda_timeout(context)
        payment = await ldb.get(Payment, event["payment_id"], required=True)
        return {"status": payment.status}
    ```

    Exceptions propagate to Lambda unchanged. A handler still running ``handler_buffer``
    seconds before the invocation's time runs out is cancelled with :class:`LambdaTimeoutError`;
    tasks an invocation leaves behind are cancelled before the next one starts. The coroutine
    function stays reachable as ``handler.__wrapped__`` (for tests that await it directly).
    """

    @functools.wraps(handler)
    def entry_point(event: E, context: C) -> T:
        # Looked up per call, not at decoration time, so tests can reset the process runner.
        return process_runner().invoke(handler, event, context)

    return entry_point


def run_in_lambda_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run init code (``new_lambda_optimized(...)``) on the loop the handlers will run on."""
    return process_runner().run(coro)


def _reset_for_tests() -> None:
    """Close the process-wide runner and forget the invocations seen."""
    global _PROCESS_RUNNER
    runner, _PROCESS_RUNNER = _PROCESS_RUNNER, None
    if runner is not None:
        runner.close()
    forget_invocations()
