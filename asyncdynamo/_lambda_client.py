"""Clients that wrap the DB's client: one binds a Lambda deadline to every call.

A :class:`ForwardingClient` is a :class:`Client` that owns nothing: it forwards to the client it
wraps (same transport, retry policy and observers) and changes only ``call``. A DB whose
``client`` property returns such a wrapper applies it to every request it makes, including the
ones made later by builders, iterators and context managers that hold the DB.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from ._client import Client, current_deadline, deadline_scope
from ._errors import (
    BatchDeadlineExceededError,
    BatchLambdaTimeoutError,
    DeadlineExceededError,
    LambdaTimeoutError,
)

__all__ = ["DeadlineClient", "ForwardingClient", "note_unfinished", "run_until_deadline"]

T = TypeVar("T")

Describe = Callable[[DeadlineExceededError], DeadlineExceededError]
"""Turns the deadline error of work cut short into one that says what it left undone."""


class _CutShort:
    """What the outermost bound learns from inside while its work is cancelled at the deadline."""

    __slots__ = ("describe", "operations")

    def __init__(self) -> None:
        self.operations: list[str] = []  # operations cut short, innermost first
        self.describe: Describe | None = None


_CUT_SHORT: ContextVar[_CutShort | None] = ContextVar("asyncdynamo_cut_short", default=None)


def note_unfinished(describe: Describe) -> None:
    """Called by work being cancelled at a deadline (a batch) to say what it leaves undone.

    The outermost :func:`run_until_deadline` then raises ``describe(error)`` instead of its
    plain deadline error. Outside such a bound it does nothing.
    """
    state = _CUT_SHORT.get()
    if state is not None:
        state.describe = describe


def _as_lambda_timeout(exc: DeadlineExceededError, operation: str) -> LambdaTimeoutError:
    if isinstance(exc, BatchDeadlineExceededError):  # keep what the batch left undone
        return BatchLambdaTimeoutError(
            str(exc),
            operation=exc.operation or operation,
            remaining=exc.remaining,
            unprocessed=exc.unprocessed,
            in_flight=exc.in_flight,
            processed_count=exc.processed_count,
            partial=exc.partial,
        )
    return LambdaTimeoutError(
        f"{exc.operation or operation} cut short by the Lambda deadline",
        operation=exc.operation or operation,
        remaining=exc.remaining,
    )


class ForwardingClient(Client):
    """A :class:`Client` that forwards every attribute and call to ``inner``.

    ``Client.__init__`` is deliberately not called: a wrapper has no transport or retry policy
    of its own, so reading ``transport``, ``retry`` or ``observers`` (and appending to the list)
    reaches the wrapped client's. Closing a wrapper closes nothing: its owner closes ``inner``.
    """

    def __init__(self, inner: Client) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes the wrapper does not have: the wrapped client's state.
        return getattr(self._inner, name)

    @property
    def inner(self) -> Client:
        """The wrapped client."""
        return self._inner

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return await self._inner.call(operation, params)

    async def aclose(self) -> None:
        """Nothing to release: the wrapped client belongs to someone else."""


def _remaining(deadline: float) -> float:
    return deadline - asyncio.get_running_loop().time()


async def run_until_deadline(
    operation: str, deadline: float, start: Callable[[], Awaitable[T]]
) -> T:
    """Await ``start()`` under ``deadline`` (``loop.time()`` clock) as a Lambda deadline.

    The deadline is put into :func:`deadline_scope` (so the client's retries never start a
    backoff sleep that would end after it) and enforced with :func:`asyncio.timeout_at` (so
    whatever is in flight at the deadline is cancelled). ``start`` is only called when time is
    left: nothing is sent after the deadline.

    Raises:
        LambdaTimeoutError: the deadline passed before or while ``start()`` ran. A deadline set
            by an outer :func:`deadline_scope` that is earlier than this one raises the ordinary
            :class:`DeadlineExceededError`: the Lambda deadline was not what cut the call short.
    """
    with deadline_scope(deadline):
        effective = current_deadline()
        if effective is None:  # cannot happen: the scope just set one; keeps the types honest
            effective = deadline
        remaining = _remaining(effective)
        ours = effective >= deadline
        if remaining <= 0:
            error_type = LambdaTimeoutError if ours else DeadlineExceededError
            raise error_type(
                f"{operation} not started: the deadline passed {-remaining:.3f}s ago",
                operation=operation,
                remaining=remaining,
            )
        timeout = asyncio.timeout_at(effective)
        cut_short = _CUT_SHORT.get()
        token = None
        if cut_short is None:  # the outermost bound collects what its inner bounds cut short
            cut_short = _CutShort()
            token = _CUT_SHORT.set(cut_short)
        try:
            async with timeout:
                return await start()
        except asyncio.CancelledError:
            # Nested bounds share the deadline, so they all fire at once and only the outermost
            # turns the cancellation into an error; note the innermost operation for it.
            if timeout.expired():
                cut_short.operations.append(operation)
            raise
        except LambdaTimeoutError:
            raise
        except DeadlineExceededError as exc:
            if not ours:
                raise
            raise _as_lambda_timeout(exc, operation) from exc
        except TimeoutError as exc:
            if not timeout.expired():
                raise  # the operation's own timeout, not ours: unchanged
            inner = cut_short.operations[0] if cut_short.operations else operation
            what = inner if inner == operation else f"{operation}: {inner}"
            error_type = LambdaTimeoutError if ours else DeadlineExceededError
            error = error_type(
                f"{what} cancelled at the deadline",
                operation=inner,
                remaining=_remaining(effective),
            )
            if token is not None and cut_short.describe is not None:
                error = cut_short.describe(error)
            raise error from exc
        finally:
            if token is not None:
                _CUT_SHORT.reset(token)


class DeadlineClient(ForwardingClient):
    """Runs every call of the wrapped client under one Lambda deadline.

    Args:
        inner: the client to forward to (the container-lifetime client, possibly itself a
            wrapper).
        deadline: absolute deadline on the running loop's clock.
    """

    def __init__(self, inner: Client, deadline: float) -> None:
        super().__init__(inner)
        self.deadline = deadline

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Send one call; raise :class:`LambdaTimeoutError` instead of passing the deadline."""
        inner = self._inner
        return await run_until_deadline(
            operation, self.deadline, lambda: inner.call(operation, params)
        )
