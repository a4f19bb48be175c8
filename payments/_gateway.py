"""The card processor seen by the payment processor.

Every call takes *our* idempotency key. A real processor (Stripe's ``Idempotency-Key``,
Adyen's ``idempotency-key``...) returns the first call's result for a repeated key, so a retry
after a crash or a timeout finds the earlier charge instead of charging again.

The in-memory fake (``_fake_gateway``) and the settlement report's lines (``_settlement``) live
in their own modules: a handler using a real processor never imports them before it needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from ._card import CardDetails
from ._errors import PaymentsError
from ._money import Money

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from ._settlement import SettlementLine

__all__ = [
    "AuthorizationRequest",
    "Gateway",
    "GatewayCallError",
    "GatewayOutcome",
    "GatewayResult",
    "GatewayTimeoutError",
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
