"""A card processor for benchmarks: approves everything and keeps nothing (so memory growth
measured over many invocations is the handler's, not the fake's)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from payments import GatewayOutcome, GatewayResult

if TYPE_CHECKING:  # annotations only: the process handler's cold path never loads them
    from collections.abc import Sequence
    from datetime import date

    from payments import AuthorizationRequest, Money, SettlementLine

__all__ = ["StatelessGateway"]


def _approved(key: str) -> GatewayResult:
    reference = "gw_" + hashlib.sha256(key.encode()).hexdigest()[:20]
    return GatewayResult(GatewayOutcome.APPROVED, reference, "tok_" + reference[3:])


class StatelessGateway:
    """Approves every call; the answer is derived from the idempotency key (so it dedupes)."""

    async def authorize(
        self, request: AuthorizationRequest, *, idempotency_key: str
    ) -> GatewayResult:
        return _approved(idempotency_key)

    async def capture(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> GatewayResult:
        return _approved(idempotency_key)

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> GatewayResult:
        return _approved(idempotency_key)

    async def void(self, reference: str, *, idempotency_key: str) -> GatewayResult:
        return _approved(idempotency_key)

    async def settlement_report(self, day: date) -> Sequence[SettlementLine]:
        return []
