"""An in-memory card processor for tests, demos and local runs (``payments.FakeGateway``).

It deduplicates on our idempotency key as a real processor does, and can be told to decline,
fail, time out before or after acting, be slow, or wait for a test.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from ._gateway import AuthorizationRequest, GatewayOutcome, GatewayResult, GatewayTimeoutError
from ._money import Money
from ._settlement import SettlementLine

__all__ = ["FakeGateway"]


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
