"""Stored payment data the processor uses: payments, their ledger and merchants.

Tables and the access patterns their keys serve:

| model         | key                          | indexes (partition, sort)                       |
|---------------|------------------------------|-------------------------------------------------|
| Payment       | payment_id                   | by_merchant (merchant_id, created_at)           |
|               |                              | by_customer (customer_id, created_at)           |
|               |                              | by_status (status, created_at)                  |
| Transaction   | payment_id, seq              | (a payment's ledger, in order)                  |
| Merchant      | merchant_id                  |                                                 |

Customers (``_customer``) and the card vault (``_vault``) live in their own modules: the
process handler's cold path loads them only when it uses them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated

from asyncdynamo import (
    GlobalIndex,
    KeyRole,
    OmitEmpty,
    PartitionKey,
    SortKey,
    UpdatedAt,
    Version,
)

from ._card import StoredModel
from ._errors import InvalidTransitionError

__all__ = [
    "TRANSITIONS",
    "LedgerKind",
    "Merchant",
    "Payment",
    "PaymentStatus",
    "Transaction",
    "check_transition",
]


class PaymentStatus(StrEnum):
    """A payment's status; ``TRANSITIONS`` lists the only changes allowed."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    DECLINED = "declined"
    FAILED = "failed"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


_S = PaymentStatus
# The only status changes there are. The processor checks them before calling the card
# processor, and every write puts the allowed from-statuses into its condition expression, so
# a concurrent change that moved the payment on makes the write fail instead of overwriting.
TRANSITIONS: MappingProxyType[PaymentStatus, frozenset[PaymentStatus]] = MappingProxyType(
    {
        _S.PENDING: frozenset({_S.AUTHORIZED, _S.DECLINED, _S.FAILED}),
        _S.AUTHORIZED: frozenset({_S.CAPTURED, _S.VOIDED}),
        _S.CAPTURED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
        _S.PARTIALLY_REFUNDED: frozenset({_S.PARTIALLY_REFUNDED, _S.REFUNDED}),
        _S.DECLINED: frozenset(),
        _S.FAILED: frozenset(),
        _S.REFUNDED: frozenset(),
        _S.VOIDED: frozenset(),
    }
)
"""Each status and the statuses it may change to (nothing else is allowed)."""


def allowed_sources(target: PaymentStatus) -> frozenset[PaymentStatus]:
    """The statuses a payment may be in for a change to ``target``."""
    return frozenset(source for source, targets in TRANSITIONS.items() if target in targets)


def check_transition(payment_id: str, current: PaymentStatus, target: PaymentStatus) -> None:
    """Raise :class:`InvalidTransitionError` unless ``current → target`` is in the table."""
    if target not in TRANSITIONS[current]:
        raise InvalidTransitionError(
            f"payment {payment_id} is {current.value}; it cannot become {target.value}",
            payment_id=payment_id,
            current=current,
            target=target,
        )


class LedgerKind(StrEnum):
    """What a ledger entry (``Transaction``) records."""

    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    VOID = "void"
    DECLINE = "decline"


_BY_MERCHANT_TIME = GlobalIndex("by_merchant", role=KeyRole.SORT)
_BY_CUSTOMER_TIME = GlobalIndex("by_customer", role=KeyRole.SORT)
_BY_STATUS_TIME = GlobalIndex("by_status", role=KeyRole.SORT)


class Payment(StoredModel):
    """A payment; amounts in minor units of ``currency``. Changed only by the processor."""

    __table__ = "payments"

    payment_id: Annotated[str, PartitionKey]
    merchant_id: Annotated[str, GlobalIndex("by_merchant")]
    customer_id: Annotated[str | None, GlobalIndex("by_customer"), OmitEmpty] = None
    status: Annotated[PaymentStatus, GlobalIndex("by_status")]
    created_at: Annotated[datetime, _BY_MERCHANT_TIME, _BY_CUSTOMER_TIME, _BY_STATUS_TIME]
    amount: int
    currency: str
    captured_amount: int = 0
    refunded_amount: int = 0
    card_token: str = ""
    card_last4: str = ""
    card_brand: str = ""
    gateway_reference: str = ""
    decline_code: Annotated[str | None, OmitEmpty] = None
    partner_id: Annotated[str | None, OmitEmpty] = None
    description: str = ""
    version: Annotated[int, Version] = 0
    updated_at: Annotated[datetime | None, UpdatedAt] = None


class Transaction(StoredModel):
    """One ledger entry of a payment; ``seq`` is the payment version the entry produced."""

    __table__ = "ledger"

    payment_id: Annotated[str, PartitionKey]
    seq: Annotated[int, SortKey]
    kind: LedgerKind
    merchant_id: str
    amount: int
    currency: str
    status_after: PaymentStatus
    gateway_reference: str = ""
    idempotency_key: str
    created_at: datetime


class Merchant(StoredModel):
    """A merchant we process for; ``partner_id`` names the account whose tables hold its data."""

    __table__ = "merchants"

    merchant_id: Annotated[str, PartitionKey]
    name: str
    active: bool = True
    partner_id: Annotated[str | None, OmitEmpty] = None
    currencies: list[str] = []
