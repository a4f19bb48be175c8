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

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

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
    Gateway,
    GatewayCallError,
    GatewayOutcome,
    GatewayResult,
    GatewayTimeoutError,
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

if _TYPE_CHECKING:
    from ._customer import Customer
    from ._fake_gateway import FakeGateway
    from ._lookup import AccountSearch, find_customer_payments, find_payment
    from ._reconcile import (
        Discrepancy,
        DiscrepancyKind,
        PartnerReconciliation,
        Reconciler,
        ReconciliationReport,
        ReconciliationStatus,
        SettlementSource,
        compare_settlement,
    )
    from ._settle import BatchItem, ItemOutcome, ItemStatus, settle_batch
    from ._settlement import SettlementLine
    from ._vault import Card

# Imported on first use: the fan-out operations behind the reconcile, settle and lookup
# handlers, the models and fakes the processor does not use (customers; the card vault, used
# only with a KMS key; the in-memory card processor) and the settlement report. The process
# handler's cold path never builds them (tests/payments/test_cold_imports.py).
_LAZY: dict[str, str] = {
    "AccountSearch": "_lookup",
    "BatchItem": "_settle",
    "Card": "_vault",
    "Customer": "_customer",
    "Discrepancy": "_reconcile",
    "DiscrepancyKind": "_reconcile",
    "FakeGateway": "_fake_gateway",
    "ItemOutcome": "_settle",
    "ItemStatus": "_settle",
    "PartnerReconciliation": "_reconcile",
    "ReconciliationReport": "_reconcile",
    "ReconciliationStatus": "_reconcile",
    "Reconciler": "_reconcile",
    "SettlementLine": "_settlement",
    "SettlementSource": "_reconcile",
    "compare_settlement": "_reconcile",
    "find_customer_payments": "_lookup",
    "find_payment": "_lookup",
    "settle_batch": "_settle",
}


def __getattr__(name: str) -> _Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'payments' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"payments.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CURRENCY_EXPONENTS",
    "PROCESSOR_MODELS",
    "TRANSITIONS",
    "AccountSearch",
    "AuditEvent",
    "AuditLog",
    "AuditRecord",
    "AuthorizationRequest",
    "BatchItem",
    "Card",
    "CardBrand",
    "CardDetails",
    "Claim",
    "Cost",
    "Customer",
    "Discrepancy",
    "DiscrepancyKind",
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
    "ItemOutcome",
    "ItemStatus",
    "LedgerKind",
    "Merchant",
    "Money",
    "PartnerReconciliation",
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
    "Reconciler",
    "ReconciliationReport",
    "ReconciliationStatus",
    "RefundExceedsCaptureError",
    "SensitiveFieldError",
    "SettlementLine",
    "SettlementSource",
    "StoredModel",
    "Transaction",
    "allowed_sources",
    "canonical_hash",
    "canonical_json",
    "check_idempotency_key",
    "check_transition",
    "compare_settlement",
    "currency_exponent",
    "find_customer_payments",
    "find_payment",
    "idempotent",
    "mask_pan",
    "settle_batch",
    "to_json_lines",
    "track_cost",
]
