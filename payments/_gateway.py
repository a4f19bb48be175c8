"""The card processor seen by the payment processor, and a fake of it for tests and demos.

Every call takes *our* idempotency key. A real processor (Stripe's ``Idempotency-Key``,
Adyen's ``idempotency-key``...) returns the first call's result for a repeated key, so a retry
after a crash or a timeout finds the earlier charge instead of charging again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Protocol

from ._card import CardDetails
from ._errors import PaymentsError
from ._money import Money

__all__ = [
    "AuthorizationRequest",
    "FakeGateway",
    "Gateway",
    "GatewayCallError",
    "GatewayOutcome",
    "GatewayResult",
    "GatewayTimeoutError",
    "SettlementLine",
]


class GatewayOutcome(StrEnum):
    """How the card processor answered a call."""

    APPROVED = "approved"
    DECLINED = "declined"
    FAILED = "failed"  # the processor refused for a reason that retrying will not change


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """What the card processor needs to authorize a payment."""

    merchant_id: str
    amount: Money
    card: CardDetails


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """The processor's answer; ``reference`` identifies the payment at the processor."""

    outcome: GatewayOutcome
    reference: str = ""
    card_token: str = ""
    decline_code: str = ""

    @property
    def approved(self) -> bool:
        return self.outcome is GatewayOutcome.APPROVED


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One movement in the processor's settlement report."""

    reference: str
    kind: str
    amount: Money


class GatewayCallError(PaymentsError):
    """Raised by a gateway implementation when the card processor failed and whether it acted
    is unknown. The processor turns it into :class:`GatewayUnavailableError`."""

    retryable = True


class GatewayTimeoutError(GatewayCallError):
    """The processor did not answer in time; it may have acted."""


class Gateway(Protocol):
    """A card processor. Every call is idempotent on ``idempotency_key``."""

    async def authorize(
        self, request: AuthorizationRequest, *, idempotency_key: str
    ) -> GatewayResult: ...

    async def capture(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> GatewayResult: ...

    async def refund(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> GatewayResult: ...

    async def void(self, reference: str, *, idempotency_key: str) -> GatewayResult: ...

    async def settlement_report(self, day: date) -> Sequence[SettlementLine]: ...


@dataclass
class FakeGateway:
    """An in-memory card processor that deduplicates on our idempotency key, like a real one.

    Attributes:
        decline: decline every authorization with this code (``None``: approve).
        fail: answer every call with ``GatewayOutcome.FAILED``.
        timeouts_after_charge: the next N calls act (charge, capture...) and then raise
            :class:`GatewayTimeoutError`, as a processor whose answer was lost.
        timeouts_before_charge: the next N calls raise :class:`GatewayTimeoutError` without acting.
        delay: seconds each call takes.
        hold: when set, every call waits for this event before acting (a slow processor
            that a test controls); ``entered`` is set when a call arrives.
        charges: how many times each idempotency key *acted* (a charge, capture, refund...).
        calls: how many times each idempotency key was called.
    """

    decline: str | None = None
    fail: bool = False
    timeouts_after_charge: int = 0
    timeouts_before_charge: int = 0
    delay: float = 0.0
    hold: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    charges: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    _results: dict[str, GatewayResult] = field(default_factory=dict)
    _ledger: list[tuple[date, SettlementLine]] = field(default_factory=list)
    today: date = field(default_factory=date.today)

    @property
    def total_charges(self) -> int:
        """Every action the fake performed, over all keys."""
        return sum(self.charges.values())

    async def _call(
        self, key: str, kind: str, amount: Money | None, act: GatewayResult
    ) -> GatewayResult:
        self.calls[key] += 1
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.timeouts_before_charge:
            self.timeouts_before_charge -= 1
            raise GatewayTimeoutError(f"{kind}: no answer")
        result = self._results.get(key)
        if result is None:
            result = act
            self._results[key] = result
            if result.approved:
                self.charges[key] += 1
                if amount is not None:
                    self._ledger.append(
                        (self.today, SettlementLine(result.reference, kind, amount))
                    )
        if self.timeouts_after_charge:
            self.timeouts_after_charge -= 1
            raise GatewayTimeoutError(f"{kind}: the answer was lost after acting")
        return result

    @staticmethod
    def _reference(key: str) -> str:
        return "gw_" + hashlib.sha256(key.encode()).hexdigest()[:20]

    def _outcome(self, key: str, *, decline: str | None = None) -> GatewayResult:
        if self.fail:
            return GatewayResult(GatewayOutcome.FAILED, reference=self._reference(key))
        if decline:
            return GatewayResult(
                GatewayOutcome.DECLINED, reference=self._reference(key), decline_code=decline
            )
        return GatewayResult(GatewayOutcome.APPROVED, reference=self._reference(key))

    async def authorize(
        self, request: AuthorizationRequest, *, idempotency_key: str
    ) -> GatewayResult:
        result = self._outcome(idempotency_key, decline=self.decline)
        token = (
            "tok_"
            + hashlib.sha256(
                f"{request.merchant_id}:{request.card.reveal_number()}".encode()
            ).hexdigest()[:24]
        )
        result = GatewayResult(result.outcome, result.reference, token, result.decline_code)
        return await self._call(idempotency_key, "authorization", request.amount, result)

    async def capture(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> GatewayResult:
        return await self._call(idempotency_key, "capture", amount, self._outcome(idempotency_key))

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> GatewayResult:
        return await self._call(idempotency_key, "refund", amount, self._outcome(idempotency_key))

    async def void(self, reference: str, *, idempotency_key: str) -> GatewayResult:
        return await self._call(idempotency_key, "void", None, self._outcome(idempotency_key))

    async def settlement_report(self, day: date) -> Sequence[SettlementLine]:
        return [line for when, line in self._ledger if when == day]
