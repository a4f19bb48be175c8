"""The payment domain, built only on asyncdynamo's public API.

```python
from payments import CardDetails, FakeGateway, Money, PaymentConfig, PaymentRequest, Processor

processor = Processor(db, config=PaymentConfig(), gateway=FakeGateway())
result = await processor.process_payment(
    PaymentRequest("m-1", Money(1250, "USD"), CardDetails("4242424242424242", exp_month=12, exp_year=2030)),
    idempotency_key="order-42",
)
```
"""

from ._audit import AuditEvent, AuditLog, AuditRecord, to_json_lines
from ._card import CardBrand, CardDetails, StoredModel, mask_pan
from ._config import PaymentConfig, PaymentsLambdaConfig
from ._cost import Cost, Prices, track_cost
from ._errors import (
    DuplicatePaymentError,
    GatewayUnavailableError,
    InvalidIdempotencyKeyError,
    InvalidMerchantError,
    InvalidTransitionError,
    PaymentDeclinedError,
    PaymentInProgressError,
    PaymentNotFoundError,
    PaymentRequestError,
    PaymentsError,
    RefundExceedsCaptureError,
    SensitiveFieldError,
)
from ._gateway import (
    AuthorizationRequest,
    FakeGateway,
    Gateway,
    GatewayCallError,
    GatewayOutcome,
    GatewayResult,
    GatewayTimeoutError,
    SettlementLine,
)
from ._hashing import canonical_hash, canonical_json, check_idempotency_key
from ._idempotency import (
    Claim,
    IdempotencyRecord,
    IdempotencyState,
    IdempotencyStore,
    IdempotentCall,
    Phase,
    idempotent,
)
from ._models import (
    TRANSITIONS,
    Card,
    Customer,
    LedgerKind,
    Merchant,
    Payment,
    PaymentStatus,
    Transaction,
    allowed_sources,
    check_transition,
)
from ._money import CURRENCY_EXPONENTS, Money, currency_exponent
from ._processor import PROCESSOR_MODELS, Processor
from ._requests import PaymentRequest, PaymentResult

__all__ = [
    "CURRENCY_EXPONENTS",
    "PROCESSOR_MODELS",
    "TRANSITIONS",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "AuthorizationRequest",
    "Card",
    "CardBrand",
    "CardDetails",
    "Claim",
    "Cost",
    "Customer",
    "DuplicatePaymentError",
    "FakeGateway",
    "Gateway",
    "GatewayCallError",
    "GatewayOutcome",
    "GatewayResult",
    "GatewayTimeoutError",
    "GatewayUnavailableError",
    "IdempotencyRecord",
    "IdempotencyState",
    "IdempotencyStore",
    "IdempotentCall",
    "InvalidIdempotencyKeyError",
    "InvalidMerchantError",
    "InvalidTransitionError",
    "LedgerKind",
    "Merchant",
    "Money",
    "Payment",
    "PaymentConfig",
    "PaymentDeclinedError",
    "PaymentInProgressError",
    "PaymentNotFoundError",
    "PaymentRequest",
    "PaymentRequestError",
    "PaymentResult",
    "PaymentStatus",
    "PaymentsError",
    "PaymentsLambdaConfig",
    "Phase",
    "Prices",
    "Processor",
    "RefundExceedsCaptureError",
    "SensitiveFieldError",
    "SettlementLine",
    "StoredModel",
    "Transaction",
    "allowed_sources",
    "canonical_hash",
    "canonical_json",
    "check_idempotency_key",
    "check_transition",
    "currency_exponent",
    "idempotent",
    "mask_pan",
    "to_json_lines",
    "track_cost",
]
