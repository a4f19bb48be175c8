"""Exactly-once execution keyed by (scope, operation, idempotency key).

One conditional write claims a key and stores the request's hash; the work's final write
completes it in the same transaction as the state change it makes (:meth:`complete_in`).
The conditions, and the race each one prevents:

claim (PutItem):
    ``attribute_not_exists(scope_key)``  two first calls race: one creates, the other reads.
    ``OR expires_at <= :now``            a key past ``idempotency_ttl`` is free again even if
                                         DynamoDB's TTL has not deleted it yet.
take over (UpdateItem), after the owner's lease ran out:
    ``owner = :old_owner AND lease_until_ms = :old_lease``  two retries both see the lease
                                         over: only one becomes the owner.
    ``AND state = in_progress``          a completion that landed meanwhile is never reopened.
phase / completion (UpdateItem, or one action of the state change's transaction):
    ``owner = :me AND state = in_progress``  a call whose lease ran out and was taken over
                                         cannot record its result as well.

A reply lost on any of these leaves the record ours: on a failed condition the record is
read back, and ``owner == me`` means the earlier attempt was applied.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ParamSpec, TypeVar

from asyncdynamo import (
    DB,
    TTL,
    ConditionalCheckFailedError,
    OmitEmpty,
    PartitionKey,
    Transaction,
    Update,
    WriteOutcomeUnknownError,
    attr,
    current_deadline,
)

from ._card import StoredModel
from ._errors import DuplicatePaymentError, PaymentInProgressError
from ._hashing import canonical_hash, check_idempotency_key

__all__ = [
    "Claim",
    "IdempotencyRecord",
    "IdempotencyState",
    "IdempotencyStore",
    "IdempotentCall",
    "Phase",
    "idempotent",
]

# A failed condition, or a write whose answer was lost and asyncdynamo could not resolve: in
# both cases the record is read back and our owner token says whether our write is the one
# stored (never reported as a conflict with ourselves).
_UNSURE = (ConditionalCheckFailedError, WriteOutcomeUnknownError)

P = ParamSpec("P")
R = TypeVar("R")
_MAX_ROUNDS = 8


class IdempotencyState(StrEnum):
    """Whether an idempotency key's call is still running or has a stored result."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Phase(StrEnum):
    """How far an operation got; a retry after a crash resumes after the last recorded one."""

    CLAIMED = "claimed"
    GATEWAY_CALLED = "gateway_called"
    RECORDED = "recorded"


class IdempotencyRecord(StoredModel):
    """One idempotency key of one scope and operation."""

    __table__ = "idempotency"

    scope_key: Annotated[str, PartitionKey]
    scope: str
    operation: str
    key: str
    request_hash: str
    state: IdempotencyState
    phase: Phase
    owner: str
    lease_until_ms: int
    expires_at: Annotated[int, TTL]
    resource_id: str = ""
    progress: dict[str, Any] = {}
    response: Annotated[str | None, OmitEmpty] = None
    created_at: datetime


class Claim:
    """The right to run one idempotent operation, or the result of its earlier run.

    Attributes:
        record: the idempotency record as last written or read.
        owner: our owner token (unique per claim attempt).
        replay: the operation completed before; :attr:`response` is its stored result.
        resumed: we took over an earlier call whose lease ran out (look at ``record.phase``).
    """

    # Claim and IdempotentCall are plain classes: a dataclass's generated code would cost
    # every cold start ~0.3 ms each.
    __slots__ = ("owner", "record", "replay", "resumed")

    def __init__(
        self, record: IdempotencyRecord, owner: str, replay: bool = False, resumed: bool = False
    ) -> None:
        self.record = record
        self.owner = owner
        self.replay = replay
        self.resumed = resumed

    def __repr__(self) -> str:
        return (
            f"Claim(key={self.record.scope_key!r}, phase={self.record.phase.value}, "
            f"replay={self.replay}, resumed={self.resumed})"
        )

    @property
    def response(self) -> Any:
        raw = self.record.response
        return json.loads(raw) if raw is not None else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class IdempotencyStore:
    """Claims, phases and completions of idempotency records in one DB.

    Args:
        db: the DB holding the ``idempotency`` table.
        ttl: how long a completed key replays its result.
        lease: the longest a claim blocks others (cut to the context's deadline).
        poll: the first pause when waiting for another call (doubles up to 0.5 s).
        sleep: how to pause between polls (tests observe the wait through it).
    """

    def __init__(
        self,
        db: DB,
        *,
        ttl: timedelta = timedelta(hours=24),
        lease: timedelta = timedelta(seconds=30),
        poll: timedelta = timedelta(milliseconds=20),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.db = db
        self.sleep = sleep
        self.ttl = ttl
        self.lease = lease
        self.poll = poll.total_seconds()

    # -- the lease never outlives the invocation ----------------------------------------------
    def lease_ms(self) -> int:
        """This claim's lease: ``lease``, or less when the context's deadline comes first."""
        lease = self.lease.total_seconds()
        deadline = current_deadline()
        if deadline is not None:
            lease = min(lease, deadline - asyncio.get_running_loop().time())
        return max(0, int(lease * 1000))

    def _remaining(self) -> float | None:
        deadline = current_deadline()
        return None if deadline is None else deadline - asyncio.get_running_loop().time()

    # -- claim ----------------------------------------------------------------------------------
    async def claim(
        self,
        scope: str,
        operation: str,
        key: str,
        request_hash: str,
        *,
        resource_id: str = "",
        wait: bool = False,
    ) -> Claim:
        """Claim ``key`` for this call, or return the completed call's result.

        Raises:
            InvalidIdempotencyKeyError: the key is not 1-255 printable characters.
            DuplicatePaymentError: the key was used with a different request.
            PaymentInProgressError: another call holds the key (and ``wait`` is off, or the
                deadline comes before its result).
        """
        check_idempotency_key(key)
        owner = uuid.uuid4().hex
        scope_key = f"{scope}#{operation}#{key}"
        delay = self.poll
        for _ in range(_MAX_ROUNDS if not wait else 1_000_000):
            now = self.db.now()
            now_ms, now_s = _ms(now), int(now.timestamp())
            lease_ms = self.lease_ms()
            if lease_ms <= 0:
                raise PaymentInProgressError(
                    f"no time left to claim idempotency key {key!r}", key=key, retry_after=0.0
                )
            fresh = IdempotencyRecord(
                scope_key=scope_key,
                scope=scope,
                operation=operation,
                key=key,
                request_hash=request_hash,
                state=IdempotencyState.IN_PROGRESS,
                phase=Phase.CLAIMED,
                owner=owner,
                lease_until_ms=now_ms + lease_ms,
                expires_at=now_s + int(self.ttl.total_seconds()),
                resource_id=resource_id,
                created_at=now,
            )
            try:
                stored = await self.db.put(
                    fresh,
                    overwrite=True,
                    # new key, or one whose idempotency_ttl is over (TTL deletion lags)
                    condition=attr("scope_key").not_exists() | (attr("expires_at") <= now_s),
                )
                return Claim(stored, owner)
            except _UNSURE:
                pass
            found = await self.db.get(IdempotencyRecord, scope_key, consistent=True)
            if found is None or found.expires_at <= now_s:
                continue  # deleted or expired since: claim again
            if found.owner == owner:
                return Claim(found, owner)  # our put was applied; its reply was lost
            if found.request_hash != request_hash:
                raise DuplicatePaymentError(
                    f"idempotency key {key!r} was used for a different {operation} request",
                    key=key,
                    scope=f"{scope}/{operation}",
                )
            if found.state is IdempotencyState.COMPLETED:
                return Claim(found, owner, replay=True)
            wait_ms = found.lease_until_ms - now_ms
            if wait_ms > 0:
                remaining = self._remaining()
                if not wait or (remaining is not None and remaining <= min(delay, wait_ms / 1000)):
                    raise PaymentInProgressError(
                        f"idempotency key {key!r} is in progress in another call",
                        key=key,
                        retry_after=wait_ms / 1000,
                    )
                await self.sleep(min(delay, wait_ms / 1000))
                delay = min(delay * 2, 0.5)
                continue
            taken = await self._take_over(found, owner, now_ms + lease_ms)
            if taken is not None:
                return Claim(taken, owner, resumed=True)
        raise PaymentInProgressError(
            f"idempotency key {key!r} is contended; retry", key=key, retry_after=self.poll
        )

    async def _take_over(
        self, found: IdempotencyRecord, owner: str, lease_until_ms: int
    ) -> IdempotencyRecord | None:
        try:
            return await self.db.update(
                IdempotencyRecord,
                found.scope_key,
                changes=Update().set("owner", owner).set("lease_until_ms", lease_until_ms),
                # only one of several retries that saw the lease run out becomes the owner,
                # and a record completed meanwhile is never reopened
                condition=(attr("owner") == found.owner)
                & (attr("lease_until_ms") == found.lease_until_ms)
                & (attr("state") == IdempotencyState.IN_PROGRESS),
            )
        except _UNSURE:
            again = await self.db.get(IdempotencyRecord, found.scope_key, consistent=True)
            if again is not None and again.owner == owner:
                return again  # applied; reply lost
            return None

    # -- progress -------------------------------------------------------------------------------
    def _owned(self, claim: Claim) -> Any:
        # A call whose lease ran out and was taken over may not write progress or a result.
        return (attr("owner") == claim.owner) & (attr("state") == IdempotencyState.IN_PROGRESS)

    async def record_phase(self, claim: Claim, phase: Phase, progress: dict[str, Any]) -> None:
        """Store how far the operation got (and renew the lease), so a retry resumes there.

        Raises:
            PaymentInProgressError: our lease ran out and another call took the key over.
        """
        lease_until = _ms(self.db.now()) + self.lease_ms()
        changes = (
            Update()
            .set("phase", phase)
            .set("progress", progress)
            .set("lease_until_ms", lease_until)
        )
        try:
            claim.record = await self.db.update(
                IdempotencyRecord,
                claim.record.scope_key,
                changes=changes,
                condition=self._owned(claim),
            )
        except _UNSURE as exc:
            found = await self.db.get(IdempotencyRecord, claim.record.scope_key, consistent=True)
            if found is not None and found.owner == claim.owner and found.phase is phase:
                claim.record = found  # applied; reply lost
                return
            raise PaymentInProgressError(
                f"idempotency key {claim.record.key!r} was taken over by another call",
                key=claim.record.key,
                retry_after=0.0,
            ) from exc

    def _completion(self, response: Any) -> Update:
        now_s = int(self.db.now().timestamp())
        return (
            Update()
            .set("state", IdempotencyState.COMPLETED)
            .set("phase", Phase.RECORDED)
            .set("response", json.dumps(response, sort_keys=True, separators=(",", ":")))
            .set("expires_at", now_s + int(self.ttl.total_seconds()))
        )

    def complete_in(self, tx: Transaction, claim: Claim, response: Any) -> None:
        """Add the completion to ``tx``: the result is stored with the change it describes."""
        tx.update(
            IdempotencyRecord,
            claim.record.scope_key,
            changes=self._completion(response),
            condition=self._owned(claim),
        )

    async def complete(self, claim: Claim, response: Any) -> None:
        """Complete without a transaction (the decorator's work is not a DynamoDB write)."""
        try:
            claim.record = await self.db.update(
                IdempotencyRecord,
                claim.record.scope_key,
                changes=self._completion(response),
                condition=self._owned(claim),
            )
        except _UNSURE as exc:
            if not await self.completed_by(claim):
                raise PaymentInProgressError(
                    f"idempotency key {claim.record.key!r} was taken over by another call",
                    key=claim.record.key,
                    retry_after=0.0,
                ) from exc

    async def completed_by(self, claim: Claim) -> bool:
        """Whether the record is completed under our ownership (a completion whose reply was
        lost); refreshes ``claim.record``."""
        found = await self.db.get(IdempotencyRecord, claim.record.scope_key, consistent=True)
        if found is not None and found.owner == claim.owner:
            claim.record = found
            return found.state is IdempotencyState.COMPLETED
        return False

    async def release(self, claim: Claim) -> None:
        """End our lease now, keeping the recorded phase: a retry may resume at once."""
        # taken over or completed already: nothing of ours to release
        with suppress(*_UNSURE):
            await self.db.update(
                IdempotencyRecord,
                claim.record.scope_key,
                changes=Update().set("lease_until_ms", 0),
                condition=self._owned(claim),
            )

    async def forget(self, claim: Claim) -> None:
        """Delete our in-progress record: nothing was done, the key may be used afresh."""
        with suppress(*_UNSURE):
            await self.db.delete(
                IdempotencyRecord, claim.record.scope_key, condition=self._owned(claim)
            )

    # -- reusable helpers -------------------------------------------------------------------------
    @asynccontextmanager
    async def call(
        self, scope: str, operation: str, key: str, request: Any, *, wait: bool = False
    ) -> AsyncIterator[IdempotentCall]:
        """Run a block at most once per key; ``call.replay`` tells a completed one.

        ```python
        async with store.call("merchant-1", "ship", "order-42", {"order": 42}) as call:
            if not call.replay:
                call.result = await ship_order(42)
        print(call.result)            # the first run's result, on every later call
        ```
        The result must be JSON data. An exception in the block releases the key for retry.
        """
        claim = await self.claim(scope, operation, key, canonical_hash(request), wait=wait)
        handle = IdempotentCall(claim)
        if claim.replay:
            handle.result = claim.response
            yield handle
            return
        try:
            yield handle
        except BaseException:
            await asyncio.shield(self.release(claim))
            raise
        await self.complete(claim, handle.result)


class IdempotentCall:
    """The handle :meth:`IdempotencyStore.call` yields.

    Attributes:
        claim: the key's claim.
        result: the block's result (set it in the block); on a replay, the first run's.
    """

    __slots__ = ("claim", "result")

    def __init__(self, claim: Claim, result: Any = None) -> None:
        self.claim = claim
        self.result = result

    @property
    def replay(self) -> bool:
        return self.claim.replay


def idempotent(
    store: IdempotencyStore,
    *,
    key: Callable[..., str],
    scope: str = "default",
    operation: str | None = None,
    wait: bool = False,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Make a coroutine function run at most once per idempotency key.

    ```python
    @idempotent(store, key=lambda order_id, **_: f"ship-{order_id}")
    async def ship(order_id: str, carrier: str) -> dict[str, str]: ...
    ```
    ``key`` receives the call's arguments. The arguments' canonical hash is stored with the
    key: the same key with other arguments raises :class:`DuplicatePaymentError`; while the
    first call runs, :class:`PaymentInProgressError` (or, with ``wait``, its result). The
    return value must be JSON data; a replay returns it as decoded JSON.
    """

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        signature = inspect.signature(fn)
        name = operation or fn.__qualname__

        @functools.wraps(fn)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            async with store.call(
                scope, name, key(*args, **kwargs), dict(bound.arguments), wait=wait
            ) as call:
                if not call.replay:
                    call.result = await fn(*args, **kwargs)
            result: R = call.result
            return result

        return run

    return decorate
