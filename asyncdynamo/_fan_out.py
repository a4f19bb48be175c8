"""Fan-out across partners: structured, bounded, deadline-aware, one result per partner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from ._client import current_deadline, deadline_scope
from ._errors import AsyncDynamoError, ConfigurationError, DeadlineExceededError
from ._lambda_client import run_until_deadline

__all__ = ["PartnerResult", "fan_out"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PartnerResult(Generic[T]):
    """What one partner's share of a :meth:`MultiAccountDB.fan_out` produced.

    Attributes:
        partner_id: the partner.
        value: the operation's result when it succeeded, else ``None``.
        error: what it raised (or why it never ran: unknown partner, STS refusal, deadline).
    """

    partner_id: str
    value: T | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the operation succeeded for this partner."""
        return self.error is None

    def unwrap(self) -> T:
        """The value, or raise the partner's error."""
        if self.error is not None:
            raise self.error
        return cast(T, self.value)  # None only when T admits None


async def fan_out(
    partner_ids: Iterable[str],
    run: Callable[[str], Awaitable[T]],
    *,
    concurrency: int,
    per_partner_timeout: float | None,
    lambda_deadline: float | None,
) -> dict[str, PartnerResult[T]]:
    """Await ``run(partner_id)`` for each partner, ``concurrency`` at a time, in one task group.

    Each partner runs under the earliest of ``lambda_deadline``, the context's deadline and its
    own ``per_partner_timeout``; whatever it raises (an ``Exception``) becomes its result.
    Cancellation is not an outcome: cancelling the caller cancels every task and propagates.
    (A partner whose operation awaited something cancelled by someone else gets an error result.)
    """
    if concurrency < 1:
        raise ConfigurationError("fan_out concurrency must be at least 1")
    if per_partner_timeout is not None and per_partner_timeout <= 0:
        raise ConfigurationError("fan_out per_partner_timeout must be positive")
    ids = list(dict.fromkeys(partner_ids))
    results: dict[str, PartnerResult[T]] = {}
    semaphore = asyncio.Semaphore(concurrency)

    async def one(partner_id: str) -> None:
        async with semaphore:
            try:
                value = await _bounded(
                    f"fan_out({partner_id})",
                    lambda: run(partner_id),
                    per_partner_timeout,
                    lambda_deadline,
                )
            except Exception as exc:  # this partner's outcome
                results[partner_id] = PartnerResult(partner_id, error=exc)
            except asyncio.CancelledError as exc:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise  # the caller (or the task group) cancelled us: not an outcome
                # Something the operation awaited was cancelled by someone else: this partner
                # failed, and the task group must not lose the others' results over it.
                error = AsyncDynamoError(
                    f"fan_out({partner_id}) was cancelled inside the operation"
                )
                error.__cause__ = exc
                results[partner_id] = PartnerResult(partner_id, error=error)
            else:
                results[partner_id] = PartnerResult(partner_id, value=value)

    with deadline_scope(lambda_deadline):
        async with asyncio.TaskGroup() as group:
            for partner_id in ids:
                group.create_task(one(partner_id), name=f"fan-out:{partner_id}")
    return {partner_id: results[partner_id] for partner_id in ids}


async def _bounded(
    operation: str,
    start: Callable[[], Awaitable[T]],
    per_partner_timeout: float | None,
    lambda_deadline: float | None,
) -> T:
    limit = current_deadline()
    is_lambda_limit = limit is not None and limit == lambda_deadline
    if per_partner_timeout is not None:
        own = asyncio.get_running_loop().time() + per_partner_timeout
        if limit is None or own < limit:
            limit, is_lambda_limit = own, False
    if limit is None:
        return await start()
    if is_lambda_limit:  # reported as LambdaTimeoutError, like every call through a Lambda view
        return await run_until_deadline(operation, limit, start)
    return await _until(operation, limit, start)


async def _until(operation: str, deadline: float, start: Callable[[], Awaitable[T]]) -> T:
    """Await ``start()`` bounded by ``deadline``; :class:`DeadlineExceededError` past it."""
    with deadline_scope(deadline):  # retries inside never start a sleep that ends after it
        if deadline <= asyncio.get_running_loop().time():
            raise DeadlineExceededError(
                f"{operation} not started: the deadline passed", operation=operation, remaining=0.0
            )
        timeout = asyncio.timeout_at(deadline)
        try:
            async with timeout:
                return await start()
        except TimeoutError as exc:
            if isinstance(exc, AsyncDynamoError) or not timeout.expired():
                raise
            raise DeadlineExceededError(
                f"{operation} cancelled at its deadline", operation=operation, remaining=0.0
            ) from exc
