"""The only layer that awaits the transport: retries, the deadline and consumed capacity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from ._config import RetryPolicy, jitter
from ._errors import (
    AsyncDynamoError,
    DeadlineExceededError,
    InternalServerError,
    TransportError,
    WriteOutcomeUnknownError,
)
from ._record import Record
from ._transport import Transport, repeatable

__all__ = [
    "CallObserver",
    "Client",
    "ConsumedCapacity",
    "current_deadline",
    "deadline_scope",
    "possibly_applied",
    "track_capacity",
]

# Absolute deadline on the running loop's clock (``loop.time()``), set by LambdaDB per invocation.
_DEADLINE: ContextVar[float | None] = ContextVar("asyncdynamo_deadline", default=None)
_TRACKERS: ContextVar[tuple[ConsumedCapacity, ...]] = ContextVar("asyncdynamo_capacity", default=())

_CAPACITY_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


def possibly_applied(exc: BaseException) -> bool:
    """Whether a failed request may have been applied by the service before failing: a
    transport failure after request bytes left, or a 5xx (DynamoDB documents that a request
    answered with an internal error may or may not have been processed)."""
    if isinstance(exc, TransportError):
        return exc.request_sent
    return isinstance(exc, InternalServerError)


def current_deadline() -> float | None:
    """The deadline (``loop.time()`` clock) that bounds calls in this context, if any."""
    return _DEADLINE.get()


@contextmanager
def deadline_scope(deadline: float | None) -> Iterator[None]:
    """Bound every call made in this context by ``deadline`` (the earlier one wins if nested)."""
    outer = _DEADLINE.get()
    if outer is not None and (deadline is None or outer < deadline):
        deadline = outer
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class ConsumedCapacity(Record):
    """Capacity units consumed by the calls made while this tracker was active."""

    __slots__ = ("by_table", "calls", "read_units", "write_units")
    read_units: float
    write_units: float
    calls: int
    by_table: dict[str, float]

    def __init__(
        self,
        read_units: float = 0.0,
        write_units: float = 0.0,
        calls: int = 0,
        by_table: dict[str, float] | None = None,
    ) -> None:
        self.read_units = read_units
        self.write_units = write_units
        self.calls = calls
        self.by_table = {} if by_table is None else by_table

    @property
    def total_units(self) -> float:
        return self.read_units + self.write_units

    def record(self, operation: str, entries: Any) -> None:
        """Add the ``ConsumedCapacity`` of one response (a dict, or a list for batches)."""
        if isinstance(entries, Mapping):
            entries = [entries]
        is_read = operation in _READ_OPERATIONS
        self.calls += 1
        for entry in entries or ():
            read = float(entry.get("ReadCapacityUnits", 0.0) or 0.0)
            write = float(entry.get("WriteCapacityUnits", 0.0) or 0.0)
            total = float(entry.get("CapacityUnits", 0.0) or 0.0)
            if not read and not write:
                # Only the total was reported: the operation says which kind of units it used.
                read, write = (total, 0.0) if is_read else (0.0, total)
            self.read_units += read
            self.write_units += write
            table = str(entry.get("TableName", ""))
            self.by_table[table] = self.by_table.get(table, 0.0) + read + write


@contextmanager
def track_capacity() -> Iterator[ConsumedCapacity]:
    """Collect the consumed capacity of every call made in this context."""
    tracker = ConsumedCapacity()
    token = _TRACKERS.set((*_TRACKERS.get(), tracker))
    try:
        yield tracker
    finally:
        _TRACKERS.reset(token)


CallObserver = Callable[
    [str, Mapping[str, Any], "Mapping[str, Any] | None", int, BaseException | None], None
]
"""Told about each finished call: operation, params, response, retries, error."""


class Client:
    """Sends calls through a transport with retries, the context deadline and capacity tracking."""

    def __init__(
        self,
        transport: Transport,
        retry: RetryPolicy | None = None,
        *,
        always_return_capacity: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] | None = None,
    ) -> None:
        self.transport = transport
        self.retry = retry or RetryPolicy()
        self._always_capacity = always_return_capacity
        self._sleep = sleep
        self._rng = rng or jitter
        self.observers: list[CallObserver] = []

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Send one API call, retrying retryable errors with full-jitter backoff.

        A failure after which the request may have been applied (a transport error once request
        bytes left, a 5xx) is retried only for operations that can be repeated safely (see
        :func:`asyncdynamo._transport.repeatable`); for a single-item write it is raised at once
        as :class:`WriteOutcomeUnknownError`, which the DB resolves (see ``_outcome``).

        Raises:
            WriteOutcomeUnknownError: a single-item write may have been applied.
            DeadlineExceededError: the context deadline passed before an answer came.
            AsyncDynamoError: the last error, when it is not retryable or attempts ran out, or
                when the next backoff sleep would end after the deadline.
        """
        trackers = _TRACKERS.get()
        wants_capacity = trackers or self._always_capacity
        if (
            wants_capacity
            and operation in _CAPACITY_OPERATIONS
            and "ReturnConsumedCapacity" not in params
        ):
            params = {**params, "ReturnConsumedCapacity": "INDEXES"}
        attempt = 0
        loop = asyncio.get_running_loop()
        while True:
            deadline = _DEADLINE.get()
            try:
                response = await self._send(operation, params, deadline, loop)
            except AsyncDynamoError as exc:
                if possibly_applied(exc) and not repeatable(operation, params):
                    unknown = WriteOutcomeUnknownError(
                        f"{operation} may or may not have been applied: {exc}",
                        operation=operation,
                        table=str(params.get("TableName", "")),
                        key=params.get("Key") or {},
                        cause=exc,
                    )
                    self._notify(operation, params, None, attempt, unknown)
                    raise unknown from exc
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    self._notify(operation, params, None, attempt, exc)
                    raise
                await self._sleep(delay)
                attempt += 1
                continue
            if trackers and "ConsumedCapacity" in response:
                for tracker in trackers:
                    tracker.record(operation, response["ConsumedCapacity"])
            self._notify(operation, params, response, attempt, None)
            return response

    async def _send(
        self,
        operation: str,
        params: Mapping[str, Any],
        deadline: float | None,
        loop: asyncio.AbstractEventLoop,
    ) -> dict[str, Any]:
        if deadline is None:
            return await self.transport.call(operation, params)
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise DeadlineExceededError(
                f"{operation} not sent: the deadline passed {-remaining:.3f}s ago",
                operation=operation,
                remaining=remaining,
            )
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                return await self.transport.call(operation, params)
        except TimeoutError as exc:
            if isinstance(exc, AsyncDynamoError) or not timeout.expired():
                raise  # the transport's own error (translated or not), not the deadline
            raise DeadlineExceededError(
                f"{operation} cancelled at the deadline", operation=operation, remaining=0.0
            ) from exc

    def backoff_delay(self, attempt: int) -> float | None:
        """The sleep before retry ``attempt + 1`` of a call, or ``None`` when the policy's
        attempts are used up or the sleep would end after the context deadline."""
        deadline = _DEADLINE.get()
        if attempt + 1 >= self.retry.max_attempts:
            return None
        delay = self.retry.backoff(attempt, self._rng)
        if deadline is not None and asyncio.get_running_loop().time() + delay >= deadline:
            return None
        return delay

    async def sleep(self, delay: float) -> None:
        """Sleep ``delay`` seconds with this client's sleep function (tests replace it)."""
        await self._sleep(delay)

    def _retry_delay(self, exc: AsyncDynamoError, attempt: int) -> float | None:
        if not exc.retryable or isinstance(exc, DeadlineExceededError):
            return None
        return self.backoff_delay(attempt)

    def _notify(
        self,
        operation: str,
        params: Mapping[str, Any],
        response: Mapping[str, Any] | None,
        retries: int,
        error: BaseException | None,
    ) -> None:
        for observer in self.observers:
            observer(operation, params, response, retries, error)

    async def aclose(self) -> None:
        await self.transport.aclose()
