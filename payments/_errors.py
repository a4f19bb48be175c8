"""Every error the payments package raises.

```
PaymentsError                        root; ``retryable`` says whether the same call may succeed later
├── PaymentRequestError              the request is invalid (``.field``, ``.reason``); nothing was written
│   ├── InvalidIdempotencyKeyError   the idempotency key is empty, too long or not printable
│   └── RefundExceedsCaptureError    a refund would take more than was captured (``.refundable``)
├── InvalidMerchantError             the merchant is unknown, missing or inactive (``.merchant_id``)
├── PaymentNotFoundError             no payment under that id (``.payment_id``)
├── InvalidTransitionError           the payment's status does not allow the change
│                                    (``.payment_id``, ``.current``, ``.target``)
├── DuplicatePaymentError            the idempotency key was used with another request (``.key``)
├── PaymentInProgressError           the same key is being processed right now (retryable;
│                                    ``.key``, ``.retry_after``)
├── PaymentDeclinedError             the card processor declined (``.payment_id``, ``.decline_code``,
│                                    ``.result``); the declined payment is recorded
├── GatewayUnavailableError          the card processor failed or did not answer (retryable: the
│                                    retry reuses our idempotency key, so it never charges twice)
└── SensitiveFieldError              a stored model declares card verification data (class creation)
```
Errors never carry a card number: at most its last four digits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ._models import PaymentStatus

__all__ = [
    "DuplicatePaymentError",
    "GatewayUnavailableError",
    "InvalidIdempotencyKeyError",
    "InvalidMerchantError",
    "InvalidTransitionError",
    "PaymentDeclinedError",
    "PaymentInProgressError",
    "PaymentNotFoundError",
    "PaymentRequestError",
    "PaymentsError",
    "RefundExceedsCaptureError",
    "SensitiveFieldError",
]


class PaymentsError(Exception):
    """Root of every error raised by the payments package."""

    retryable: ClassVar[bool] = False


class PaymentRequestError(PaymentsError, ValueError):
    """The request is invalid; it was refused before anything was written or charged.

    Attributes:
        field: the request field at fault (``"amount"``, ``"currency"``, ``"card.number"``...).
        reason: what is wrong with it.
    """

    def __init__(self, message: str, *, field: str, reason: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason or message


class InvalidIdempotencyKeyError(PaymentRequestError):
    """An idempotency key must be 1 to 255 printable characters."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="idempotency_key")


class RefundExceedsCaptureError(PaymentRequestError):
    """A refund would bring the total refunded above the captured amount.

    Attributes:
        payment_id: the payment.
        requested: the refund asked for (minor units).
        refundable: what can still be refunded (minor units).
    """

    def __init__(self, message: str, *, payment_id: str, requested: int, refundable: int) -> None:
        super().__init__(message, field="amount")
        self.payment_id = payment_id
        self.requested = requested
        self.refundable = refundable


class InvalidMerchantError(PaymentsError):
    """The merchant is missing, unknown, inactive, or does not accept the currency."""

    def __init__(self, message: str, *, merchant_id: str) -> None:
        super().__init__(message)
        self.merchant_id = merchant_id


class PaymentNotFoundError(PaymentsError, LookupError):
    """No payment is stored under ``payment_id``."""

    def __init__(self, message: str, *, payment_id: str) -> None:
        super().__init__(message)
        self.payment_id = payment_id


class InvalidTransitionError(PaymentsError):
    """The payment's current status does not allow the requested change."""

    def __init__(
        self, message: str, *, payment_id: str, current: PaymentStatus, target: PaymentStatus
    ) -> None:
        super().__init__(message)
        self.payment_id = payment_id
        self.current = current
        self.target = target


class DuplicatePaymentError(PaymentsError):
    """The idempotency key was already used for a different request (payload hash differs).

    Attributes:
        key: the idempotency key.
        scope: ``merchant/operation`` the key belongs to.
    """

    def __init__(self, message: str, *, key: str, scope: str) -> None:
        super().__init__(message)
        self.key = key
        self.scope = scope


class PaymentInProgressError(PaymentsError):
    """Another call with the same idempotency key holds the lease; retry after ``retry_after``.

    Attributes:
        key: the idempotency key.
        retry_after: seconds until the other call's lease ends (an upper bound on the wait).
    """

    retryable = True

    def __init__(self, message: str, *, key: str, retry_after: float) -> None:
        super().__init__(message)
        self.key = key
        self.retry_after = retry_after


class PaymentDeclinedError(PaymentsError):
    """The card processor declined; the declined payment and its audit record are stored.

    Attributes:
        payment_id: the recorded (declined) payment.
        decline_code: the processor's reason code.
        result: the :class:`~payments.PaymentResult` (``.replay`` tells a replayed decline).
    """

    def __init__(self, message: str, *, payment_id: str, decline_code: str, result: Any) -> None:
        super().__init__(message)
        self.payment_id = payment_id
        self.decline_code = decline_code
        self.result = result


class GatewayUnavailableError(PaymentsError):
    """The card processor failed or timed out; whether it acted is unknown.

    Retrying with the same idempotency key is safe: the processor receives our key and
    deduplicates, so the retry finds the first attempt's charge instead of making another.
    """

    retryable = True

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class SensitiveFieldError(PaymentsError, TypeError):
    """A stored model declares a field for card verification data (CVV/CVC), which may never
    be persisted (PCI DSS 3.2.2)."""

    def __init__(self, message: str, *, model: str, field: str) -> None:
        super().__init__(message)
        self.model = model
        self.field = field
