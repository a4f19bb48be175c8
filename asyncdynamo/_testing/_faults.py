"""What the fault proxy can do to a request, and the rules that say when.

Each fault is a frozen value; :meth:`FaultProxy.inject <asyncdynamo.testing.FaultProxy.inject>`
turns one into a :class:`Rule` that selects requests by operation and by count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "BATCH_OPERATIONS",
    "TRANSACTION_OPERATIONS",
    "Counts",
    "Delay",
    "ErrorReply",
    "Fault",
    "Reset",
    "Rule",
    "Stage",
    "Stall",
    "TransactionConflict",
    "Unprocessed",
]

BATCH_OPERATIONS = frozenset({"BatchWriteItem", "BatchGetItem"})
TRANSACTION_OPERATIONS = frozenset({"TransactWriteItems", "TransactGetItems"})
_DYNAMODB = "com.amazonaws.dynamodb.v20120810"
_CORAL = "com.amazon.coral.availability"


class Stage(StrEnum):
    """When a delay, stall or reset happens.

    ``BEFORE_FORWARD``: the server has not seen the request (nothing applied).
    ``AFTER_FORWARD``: the server answered (the request was applied) and the reply is held back.
    """

    BEFORE_FORWARD = "before_forward"
    AFTER_FORWARD = "after_forward"


@dataclass(frozen=True, slots=True)
class Delay:
    """Added latency: ``seconds`` plus a uniform random extra in ``[0, jitter)``."""

    seconds: float = 0.0
    jitter: float = 0.0
    stage: Stage = Stage.BEFORE_FORWARD

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.jitter < 0:
            raise ValueError("Delay seconds and jitter cannot be negative")


@dataclass(frozen=True, slots=True)
class Stall:
    """Hold the request (or, after forwarding, its reply) until the rule is released."""

    stage: Stage = Stage.BEFORE_FORWARD


@dataclass(frozen=True, slots=True)
class Reset:
    """Close the client's connection with a TCP reset.

    ``Stage.BEFORE_FORWARD``: nothing reaches the server. ``Stage.AFTER_FORWARD``: the server
    applied the request and answered; the reply is lost.
    """

    stage: Stage = Stage.BEFORE_FORWARD


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """Answer with a DynamoDB JSON 1.0 error instead of forwarding (nothing applied).

    Use the constructors for the errors DynamoDB sends under load: :meth:`throttling`,
    :meth:`throughput_exceeded`, :meth:`request_limit_exceeded`, :meth:`internal_error` (500),
    :meth:`unavailable` (503).
    """

    code: str
    status: int = 400
    message: str = "injected by the fault proxy"
    namespace: str = _DYNAMODB

    @property
    def error_type(self) -> str:
        """The ``__type`` of the error body."""
        return f"{self.namespace}#{self.code}"

    @classmethod
    def throttling(cls) -> ErrorReply:
        """``ThrottlingException`` (control-plane or account-level rate)."""
        return cls(
            "ThrottlingException",
            namespace=_CORAL,
            message="Rate of requests exceeds the allowed throughput.",
        )

    @classmethod
    def throughput_exceeded(cls) -> ErrorReply:
        """``ProvisionedThroughputExceededException`` (a table or partition is over capacity)."""
        return cls(
            "ProvisionedThroughputExceededException",
            message="The level of configured provisioned throughput for the table was exceeded.",
        )

    @classmethod
    def request_limit_exceeded(cls) -> ErrorReply:
        """``RequestLimitExceeded`` (the account's on-demand throughput limit)."""
        return cls(
            "RequestLimitExceeded",
            message="Throughput exceeds the current throughput limit for your account.",
        )

    @classmethod
    def internal_error(cls) -> ErrorReply:
        """A 500 ``InternalServerError``."""
        return cls("InternalServerError", status=500, message="Internal server error")

    @classmethod
    def unavailable(cls) -> ErrorReply:
        """A 503 ``ServiceUnavailableException``."""
        return cls(
            "ServiceUnavailableException",
            status=503,
            namespace=_CORAL,
            message="Service unavailable",
        )


@dataclass(frozen=True, slots=True)
class Unprocessed:
    """Forward only part of a ``BatchWriteItem``/``BatchGetItem``; report the rest unprocessed.

    The last ``ceil(fraction * n)`` of the batch's ``n`` requests (or keys) never reach the
    server and come back in ``UnprocessedItems``/``UnprocessedKeys``, as DynamoDB returns them
    when a partition is over capacity; if that is all of them, nothing is forwarded.
    Rewritten requests are not re-signed: use it with servers that do not check signatures
    (moto, DynamoDB Local).
    """

    fraction: float = 0.5

    def __post_init__(self) -> None:
        if not 0 < self.fraction <= 1:
            raise ValueError("Unprocessed.fraction must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class TransactionConflict:
    """Cancel a ``TransactWriteItems``/``TransactGetItems`` with a ``TransactionConflict`` reason.

    Nothing is forwarded. ``index`` is the action that conflicted (the last one if out of range);
    every other action gets reason ``None``, as DynamoDB reports it.
    """

    index: int = 0


Fault = Delay | Stall | Reset | ErrorReply | Unprocessed | TransactionConflict
"""Anything :meth:`FaultProxy.inject <asyncdynamo.testing.FaultProxy.inject>` accepts."""


@dataclass(frozen=True, slots=True)
class Counts:
    """What the proxy did with the requests of one operation (or all of them).

    Attributes:
        received: requests that reached the proxy.
        forwarded: requests sent on to the server (a batch cut by :class:`Unprocessed` counts
            once if any part of it was sent).
        injected: requests a fault was applied to.
        dropped: requests never forwarded because their client left while they were delayed or
            stalled before forwarding.
    """

    received: int = 0
    forwarded: int = 0
    injected: int = 0
    dropped: int = 0


class Rule:
    """One injected fault and the requests it applies to (returned by ``FaultProxy.inject``).

    A request matches when its operation is one of ``operations`` (all when empty) and the fault
    can apply to it (:class:`Unprocessed` only to batches, :class:`TransactionConflict` only to
    transactions). Every matching request advances ``matched``; the rule fires on the ``nth``
    match, on the ``first`` k matches, or (neither given) on every match, each time with
    ``probability``. When several rules fire on one request, the one added first applies.

    Attributes:
        fault: what happens.
        operations: operation names (``"UpdateItem"``), empty for any.
        matched: requests that matched so far.
        injected: requests the fault was applied to so far.
    """

    def __init__(
        self,
        fault: Fault,
        operations: Iterable[str],
        *,
        nth: int | None,
        first: int | None,
        wake: Callable[[], None],
        probability: float = 1.0,
    ) -> None:
        if nth is not None and first is not None:
            raise ValueError("give nth or first, not both")
        if (nth is not None and nth < 1) or (first is not None and first < 0):
            raise ValueError("nth must be at least 1 and first at least 0")
        if not 0 < probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        self.probability = probability
        self.fault = fault
        self.operations = frozenset(name.rsplit(".", 1)[-1] for name in operations)
        self.nth = nth
        self.first = first
        self.matched = 0
        self.injected = 0
        self.removed = False
        self.released = asyncio.Event()  # waited on by the proxy's loop only
        self._wake = wake

    def __repr__(self) -> str:
        which = (
            f"nth={self.nth}"
            if self.nth
            else f"first={self.first}"
            if self.first is not None
            else "every"
        )
        names = ",".join(sorted(self.operations)) or "*"
        if self.probability < 1:
            which += f", p={self.probability}"
        return f"Rule({self.fault!r}, {names}, {which}, matched={self.matched}, injected={self.injected})"

    def matches(self, operation: str) -> bool:
        """Whether a request for ``operation`` is one this rule counts."""
        if self.removed or (self.operations and operation not in self.operations):
            return False
        if isinstance(self.fault, Unprocessed):
            return operation in BATCH_OPERATIONS
        if isinstance(self.fault, TransactionConflict):
            return operation in TRANSACTION_OPERATIONS
        return True

    def fires(self, draw: Callable[[], float]) -> bool:
        """Whether the current match (``matched``, already advanced) is one to apply to.

        ``draw`` gives a uniform random number in ``[0, 1)`` for the rule's ``probability``.
        """
        if self.nth is not None:
            selected = self.matched == self.nth
        elif self.first is not None:
            selected = self.matched <= self.first
        else:
            selected = True
        return selected and (self.probability >= 1 or draw() < self.probability)

    def release(self) -> None:
        """Let stalled requests go on, and stop stalling new ones (the rule is removed)."""
        self.removed = True
        self._wake()

    def remove(self) -> None:
        """Stop applying this rule (stalls it holds are released)."""
        self.release()
