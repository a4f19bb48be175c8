"""What callers hand the processor, what they get back, and the plan of each state change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from asyncdynamo import Condition, attr

from ._audit import AuditEvent
from ._card import CardDetails
from ._cost import Cost
from ._errors import PaymentRequestError, RefundExceedsCaptureError
from ._models import LedgerKind, Payment, PaymentStatus, allowed_sources, check_transition
from ._money import Money

__all__ = ["Change", "PaymentRequest", "PaymentResult", "plan_capture", "plan_refund", "plan_void"]

_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def check_id(value: object, field_name: str) -> str:
    """An id used in keys: 1-64 characters of letters, digits, ``_-.`` (never ``#``)."""
    if not isinstance(value, str) or not 1 <= len(value) <= 64 or not set(value) <= _ID_CHARS:
        raise PaymentRequestError(
            f"{field_name} must be 1-64 letters, digits, '_', '-' or '.'", field=field_name
        )
    return value


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    """A request to authorize a card payment.

    ``repr`` shows the card masked; the card number reaches only the card processor (and,
    with a KMS key configured, the encrypted card vault).
    """

    merchant_id: str
    amount: Money
    card: CardDetails
    customer_id: str | None = None
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_id(self.merchant_id, "merchant_id")
        if self.customer_id is not None:
            check_id(self.customer_id, "customer_id")
        if not isinstance(self.amount, Money):
            raise PaymentRequestError("amount must be a Money", field="amount")
        if not isinstance(self.card, CardDetails):
            raise PaymentRequestError("card must be CardDetails", field="card")
        if not isinstance(self.description, str) or len(self.description) > 500:
            raise PaymentRequestError(
                "description is text of at most 500 characters", field="description"
            )
        if not isinstance(self.metadata, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.metadata.items()
        ):
            raise PaymentRequestError("metadata maps text to text", field="metadata")

    def canonical(self) -> dict[str, Any]:
        """The request as hashed for idempotency (the card by brand, last four and expiry)."""
        return {
            "merchant_id": self.merchant_id,
            "amount": self.amount,
            "card": self.card,
            "customer_id": self.customer_id,
            "description": self.description,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """The outcome of one processor call.

    Attributes:
        payment: the payment as this call left it (for a replay: as the first call left it).
        replay: the result was stored by an earlier call with the same idempotency key.
        cost: request units this call consumed and their estimated price.
    """

    payment: Payment
    replay: bool
    cost: Cost


class Change(NamedTuple):  # a NamedTuple is built ~10x faster than a frozen dataclass
    """One planned state change of a payment (before the card processor is called)."""

    target: PaymentStatus
    fields: dict[str, Any]
    condition: Condition | None  # None: creation (attribute_not_exists)
    ledger: LedgerKind
    event: AuditEvent
    amount: int


def _sources(target: PaymentStatus) -> Condition:
    # The payment must still be in a status the transition table allows to move to `target`:
    # a concurrent change (a void racing a capture) makes this write fail, not overwrite it.
    return attr("status").is_in(sorted(allowed_sources(target)))


def _same_currency(payment: Payment, amount: Money) -> None:
    if amount.currency != payment.currency:
        raise PaymentRequestError(
            f"payment {payment.payment_id} is in {payment.currency}, not {amount.currency}",
            field="currency",
        )


def plan_capture(payment: Payment, amount: Money | None) -> Change:
    """Capture all of the authorization, or part of it."""
    check_transition(payment.payment_id, payment.status, PaymentStatus.CAPTURED)
    minor = payment.amount
    if amount is not None:
        _same_currency(payment, amount)
        if amount.minor > payment.amount:
            raise PaymentRequestError(
                f"cannot capture {amount} of a {payment.amount}-unit authorization",
                field="amount",
            )
        minor = amount.minor
    return Change(
        target=PaymentStatus.CAPTURED,
        fields={"status": PaymentStatus.CAPTURED, "captured_amount": minor},
        condition=_sources(PaymentStatus.CAPTURED),
        ledger=LedgerKind.CAPTURE,
        event=AuditEvent.CAPTURED,
        amount=minor,
    )


def plan_refund(payment: Payment, amount: Money | None) -> Change:
    """Refund part or all of what is captured and not yet refunded."""
    refundable = payment.captured_amount - payment.refunded_amount
    minor = refundable if amount is None else amount.minor
    if amount is not None:
        _same_currency(payment, amount)
    if payment.status in (PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED) and (
        minor > refundable or minor <= 0
    ):
        raise RefundExceedsCaptureError(
            f"payment {payment.payment_id}: refund of {minor} exceeds the {refundable} "
            "captured and not yet refunded",
            payment_id=payment.payment_id,
            requested=minor,
            refundable=refundable,
        )
    total = payment.refunded_amount + minor
    target = (
        PaymentStatus.REFUNDED
        if total == payment.captured_amount
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    check_transition(payment.payment_id, payment.status, target)
    return Change(
        target=target,
        fields={"status": target, "refunded_amount": total},
        # never refund more than was captured, whatever was read: the stored captured amount
        # must cover the new total (the version check alone would also catch a stale read)
        condition=_sources(target) & (attr("captured_amount") >= total),
        ledger=LedgerKind.REFUND,
        event=AuditEvent.REFUNDED,
        amount=minor,
    )


def plan_void(payment: Payment) -> Change:
    """Cancel an authorization that was not captured."""
    check_transition(payment.payment_id, payment.status, PaymentStatus.VOIDED)
    return Change(
        target=PaymentStatus.VOIDED,
        fields={"status": PaymentStatus.VOIDED},
        condition=_sources(PaymentStatus.VOIDED),
        ledger=LedgerKind.VOID,
        event=AuditEvent.VOIDED,
        amount=payment.amount,
    )
