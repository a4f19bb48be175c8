"""The card processor of the cold-import test: approves every authorization.

Its payments imports are for annotations only, as a real processor client's can be, so what
the cold handler loads is the handler's own choice (``PAYMENTS_GATEWAY``).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from payments import GatewayOutcome, GatewayResult

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from payments import AuthorizationRequest, Money, SettlementLine


class ApprovingGateway:
    """Approves every call; the answer is derived from the idempotency key (so it dedupes)."""

    @staticmethod
    def _approved(key: str) -> GatewayResult:
        reference = "gw_" + hashlib.sha256(key.encode()).hexdigest()[:20]
        return GatewayResult(GatewayOutcome.APPROVED, reference, "tok_" + reference[3:])

    async def authorize(
        self, request: AuthorizationRequest, *, idempotency_key: str
    ) -> GatewayResult:
        return self._approved(idempotency_key)

    async def capture(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> GatewayResult:
        return self._approved(idempotency_key)

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> GatewayResult:
        return self._approved(idempotency_key)

    async def void(self, reference: str, *, idempotency_key: str) -> GatewayResult:
        return self._approved(idempotency_key)

    async def settlement_report(self, day: date) -> Sequence[SettlementLine]:
        return []
