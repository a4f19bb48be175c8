"""``Processor``: authorize, capture, refund and void, each exactly once per idempotency key.

```
validate ─► merchant ─► claim key ─► card processor (our key) ─► record phase ─► one transaction:
 (typed     (account    (conditional    (dedupes on the key)     (gateway         payment transition
  errors)    to use)     put)                                     called)          + ledger entry
                                                                                   + audit record
                                                                                   + key completed
```
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from asyncdynamo import DB, ConfigurationError

from ._audit import AuditEvent, AuditLog, AuditRecord
from ._card import mask_pan
from ._config import PaymentConfig
from ._cost import Cost
from ._errors import (
    InvalidMerchantError,
    PaymentDeclinedError,
    PaymentNotFoundError,
    PaymentsError,
)
from ._gateway import AuthorizationRequest, Gateway, GatewayOutcome, GatewayResult
from ._hashing import canonical_hash, check_idempotency_key
from ._idempotency import IdempotencyRecord, IdempotencyStore, Phase
from ._models import LedgerKind, Merchant, Payment, PaymentStatus, Transaction
from ._money import Money
from ._requests import (
    Change,
    PaymentRequest,
    PaymentResult,
    check_id,
    plan_capture,
    plan_refund,
    plan_void,
)
from ._steps import Caller, call_gateway, ledger_and_audit, record, replayed, token

if TYPE_CHECKING:
    from asyncdynamo import MultiAccountDB

__all__ = ["PROCESSOR_MODELS", "Processor"]

log = logging.getLogger("payments")

PROCESSOR_MODELS: tuple[type[Any], ...] = (
    Payment,
    Transaction,
    AuditRecord,
    IdempotencyRecord,
    Merchant,
)
"""The tables the processor uses (plus ``Card`` when a KMS key is configured)."""

_STATUS_EVENT = {
    PaymentStatus.AUTHORIZED: (AuditEvent.AUTHORIZED, LedgerKind.AUTHORIZATION),
    PaymentStatus.DECLINED: (AuditEvent.DECLINED, LedgerKind.DECLINE),
    PaymentStatus.FAILED: (AuditEvent.FAILED, LedgerKind.DECLINE),
}


class Processor:
    """Processes card payments exactly once per idempotency key.

    ```python
    processor = Processor(db, config=PaymentConfig(), gateway=gateway)
    result = await processor.process_payment(request, idempotency_key="order-42")
    await processor.capture(result.payment.payment_id, idempotency_key="order-42-capture")
    ```

    Args:
        db: a ``DB`` / ``LambdaDB`` (inside an invocation, its ``with_lambda_timeout`` view), or
            a ``MultiAccountDB``: a merchant with a ``partner_id`` is processed in that
            partner's account, others in the base account. Merchants are read from the base.
        config: processor settings.
        gateway: the card processor.
        actor: who the audit trail names when a call does not say.
    """

    def __init__(
        self,
        db: DB | MultiAccountDB,
        *,
        gateway: Gateway,
        config: PaymentConfig | None = None,
        actor: str = "payments",
    ) -> None:
        self.config = config or PaymentConfig()
        self.gateway = gateway
        self.actor = actor
        self._db = db
        self._base: DB = db.base if hasattr(db, "partner") else db  # type: ignore[union-attr]
        self._merchants: dict[str, tuple[float, Merchant]] = {}
        if (
            self.config.kms_key_id is not None
            and getattr(self._base.config, "kms_key_id", None) != self.config.kms_key_id
        ):
            raise ConfigurationError(
                "PaymentConfig.kms_key_id is set but the DB's Config does not encrypt with it; "
                "build the DB from PaymentConfig.db_config(...)"
            )

    # -- routing --------------------------------------------------------------------------------
    async def merchant(self, merchant_id: str) -> Merchant:
        """The active merchant ``merchant_id`` (cached for ``config.merchant_cache``).

        Raises:
            InvalidMerchantError: missing, unknown or inactive.
        """
        if not merchant_id:
            raise InvalidMerchantError("a merchant id is required", merchant_id="")
        now = time.monotonic()
        cached = self._merchants.get(merchant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        check_id(merchant_id, "merchant_id")
        found = await self._base.get(Merchant, merchant_id)
        if found is None or not found.active:
            raise InvalidMerchantError(
                f"merchant {merchant_id!r} is unknown or inactive", merchant_id=merchant_id
            )
        self._merchants[merchant_id] = (now + self.config.merchant_cache.total_seconds(), found)
        return found

    async def db_for(self, merchant: Merchant) -> DB:
        """The DB of the account holding ``merchant``'s payments.

        Raises:
            InvalidMerchantError: the merchant belongs to a partner account and this processor
                has no ``MultiAccountDB`` to reach it (never silently the base account).
        """
        if not merchant.partner_id:
            return self._base
        if not hasattr(self._db, "partner"):
            raise InvalidMerchantError(
                f"merchant {merchant.merchant_id!r} is processed in partner account "
                f"{merchant.partner_id!r}; give the Processor a MultiAccountDB",
                merchant_id=merchant.merchant_id,
            )
        partner_db: DB = await self._db.partner(merchant.partner_id)
        return partner_db

    def store(self, db: DB) -> IdempotencyStore:
        return IdempotencyStore(
            db,
            ttl=self.config.idempotency_ttl,
            lease=self.config.in_progress_lease,
            poll=self.config.wait_poll,
        )

    def audit(self, db: DB | None = None) -> AuditLog:
        """Reads of the audit trail in ``db`` (default: the base account)."""
        return AuditLog(db or self._base)

    async def audit_log(self, merchant_id: str) -> AuditLog:
        """Reads of the audit trail in the account holding ``merchant_id``'s payments."""
        return AuditLog(await self.db_for(await self.merchant(merchant_id)))

    async def get_payment(self, payment_id: str, *, merchant_id: str | None = None) -> Payment:
        """Read one payment (strongly consistent).

        Raises:
            PaymentNotFoundError: no such payment (for that merchant).
        """
        db = await self.db_for(await self.merchant(merchant_id)) if merchant_id else self._base
        return await self._load(db, payment_id, merchant_id)

    async def _load(self, db: DB, payment_id: str, merchant_id: str | None) -> Payment:
        check_id(payment_id, "payment_id")
        payment = await db.get(Payment, payment_id, consistent=True)
        if payment is None or (merchant_id is not None and payment.merchant_id != merchant_id):
            raise PaymentNotFoundError(f"no payment {payment_id}", payment_id=payment_id)
        return payment

    # -- authorize ------------------------------------------------------------------------------
    async def process_payment(
        self,
        request: PaymentRequest,
        *,
        idempotency_key: str,
        wait: bool = False,
        actor: str | None = None,
        request_id: str | None = None,
    ) -> PaymentResult:
        """Authorize a card payment, exactly once per (merchant, idempotency key).

        Args:
            wait: when another call holds the same key, wait (within the deadline) for its
                result instead of raising :class:`PaymentInProgressError`.

        Returns:
            The authorized payment; ``replay`` when an earlier call with this key made it.

        Raises:
            PaymentRequestError: bad amount, currency, card or key (nothing was sent).
            InvalidMerchantError: unknown, inactive, or the currency is not accepted.
            DuplicatePaymentError: the key was used for a different request.
            PaymentInProgressError: the key is being processed by another call (retryable).
            PaymentDeclinedError: the card was declined (the declined payment is stored).
            GatewayUnavailableError: the card processor failed; retry with the same key.
        """
        check_idempotency_key(idempotency_key)
        request.amount.check_maximum(self.config.max_amount)
        merchant = await self.merchant(request.merchant_id)
        if merchant.currencies and request.amount.currency not in merchant.currencies:
            raise InvalidMerchantError(
                f"merchant {merchant.merchant_id!r} does not accept {request.amount.currency}",
                merchant_id=merchant.merchant_id,
            )
        db = await self.db_for(merchant)
        caller = Caller(actor or self.actor, request_id, idempotency_key)
        with db.track_capacity() as used:
            result = await self._authorize(db, merchant, request, caller, wait)
        final = PaymentResult(result.payment, result.replay, Cost.of(used, self.config.prices))
        if final.payment.status is not PaymentStatus.AUTHORIZED:
            raise PaymentDeclinedError(
                f"payment {final.payment.payment_id} was {final.payment.status.value}",
                payment_id=final.payment.payment_id,
                decline_code=final.payment.decline_code or "",
                result=final,
            )
        return final

    async def _authorize(
        self, db: DB, merchant: Merchant, request: PaymentRequest, caller: Caller, wait: bool
    ) -> PaymentResult:
        store = self.store(db)
        claim = await store.claim(
            merchant.merchant_id,
            "authorize",
            caller.idempotency_key,
            canonical_hash(request.canonical()),
            resource_id="pay_" + uuid.uuid4().hex,
            wait=wait,
        )
        if claim.replay:
            return replayed(claim)
        payment_id = claim.record.resource_id  # the first call's id when resuming
        card = request.card
        log.info(
            "authorizing payment %s merchant=%s amount=%s card=%s resumed=%s",
            payment_id,
            merchant.merchant_id,
            request.amount,
            mask_pan(card.last4),
            claim.resumed,
        )

        async def authorize(key: str) -> GatewayResult:
            auth = AuthorizationRequest(merchant.merchant_id, request.amount, card)
            return await self.gateway.authorize(auth, idempotency_key=key)

        answer = await call_gateway(store, claim, "authorize", authorize)
        status = {
            GatewayOutcome.APPROVED: PaymentStatus.AUTHORIZED,
            GatewayOutcome.DECLINED: PaymentStatus.DECLINED,
            GatewayOutcome.FAILED: PaymentStatus.FAILED,
        }[answer.outcome]
        event, ledger = _STATUS_EVENT[status]
        now = db.now()
        payment = Payment(
            payment_id=payment_id,
            merchant_id=merchant.merchant_id,
            customer_id=request.customer_id,
            status=status,
            created_at=now,
            amount=request.amount.minor,
            currency=request.amount.currency,
            card_token=answer.card_token,
            card_last4=card.last4,
            card_brand=card.brand.value,
            gateway_reference=answer.reference,
            decline_code=answer.decline_code or None,
            partner_id=merchant.partner_id,
            description=request.description,
        )
        change = Change(status, {}, None, ledger, event, request.amount.minor)

        async def commit() -> Payment:
            tx = db.transaction(token=token(claim.owner, "record"))
            # create-only: the payment leaves "pending" (not stored) exactly once
            stored: Payment = tx.put(payment)
            ledger_and_audit(tx, stored, PaymentStatus.PENDING, change, caller, answer, now)
            if self.config.kms_key_id is not None and answer.card_token:
                from ._vault import Card  # only with a KMS key: the cold path without one skips it

                tx.put(
                    Card(
                        token=answer.card_token,
                        merchant_id=merchant.merchant_id,
                        pan=card.reveal_number(),
                        last4=card.last4,
                        brand=card.brand.value,
                        exp_month=card.exp_month,
                        exp_year=card.exp_year,
                    ),
                    overwrite=True,
                )
            store.complete_in(tx, claim, {"payment": stored.model_dump(mode="json")})
            await tx.commit()
            return stored

        return await record(store, claim, commit, None)

    # -- capture, refund, void --------------------------------------------------------------------
    async def capture(
        self,
        payment_id: str,
        *,
        idempotency_key: str,
        amount: Money | None = None,
        merchant_id: str | None = None,
        wait: bool = False,
        actor: str | None = None,
        request_id: str | None = None,
    ) -> PaymentResult:
        """Capture an authorized payment: all of it, or ``amount`` of it.

        ``merchant_id`` is required with a ``MultiAccountDB`` (it names the account).

        Raises:
            PaymentRequestError: a bad amount (nothing was sent).
            PaymentNotFoundError: no such payment (for that merchant).
            InvalidTransitionError: the payment's status does not allow the change.
            DuplicatePaymentError: the key was used for a different request.
            PaymentInProgressError: the key is being processed by another call (retryable).
            GatewayUnavailableError: the card processor failed; retry with the same key.
        """
        caller = Caller(actor or self.actor, request_id, idempotency_key)
        return await self._change("capture", payment_id, merchant_id, amount, caller, wait)

    async def refund(
        self,
        payment_id: str,
        *,
        idempotency_key: str,
        amount: Money | None = None,
        merchant_id: str | None = None,
        wait: bool = False,
        actor: str | None = None,
        request_id: str | None = None,
    ) -> PaymentResult:
        """Refund ``amount`` (default: everything still refundable) of a captured payment.

        Raises:
            RefundExceedsCaptureError: the total refunded would exceed the captured amount.
            PaymentNotFoundError: no such payment (for that merchant).
            InvalidTransitionError: the payment's status does not allow the change.
            DuplicatePaymentError: the key was used for a different request.
            PaymentInProgressError: the key is being processed by another call (retryable).
            GatewayUnavailableError: the card processor failed; retry with the same key.
        """
        caller = Caller(actor or self.actor, request_id, idempotency_key)
        return await self._change("refund", payment_id, merchant_id, amount, caller, wait)

    async def void(
        self,
        payment_id: str,
        *,
        idempotency_key: str,
        merchant_id: str | None = None,
        wait: bool = False,
        actor: str | None = None,
        request_id: str | None = None,
    ) -> PaymentResult:
        """Cancel an authorized, uncaptured payment.

        Raises:
            PaymentNotFoundError: no such payment (for that merchant).
            InvalidTransitionError: the payment's status does not allow the change.
            DuplicatePaymentError: the key was used for a different request.
            PaymentInProgressError: the key is being processed by another call (retryable).
            GatewayUnavailableError: the card processor failed; retry with the same key.
        """
        caller = Caller(actor or self.actor, request_id, idempotency_key)
        return await self._change("void", payment_id, merchant_id, None, caller, wait)

    async def _change(
        self,
        operation: str,
        payment_id: str,
        merchant_id: str | None,
        amount: Money | None,
        caller: Caller,
        wait: bool,
    ) -> PaymentResult:
        """Capture, refund or void: one flow, with the operation's plan and card-processor call."""
        check_idempotency_key(caller.idempotency_key)
        payload: dict[str, Any] = {} if operation == "void" else {"amount": amount}
        plan, call = self._steps(operation, amount)
        check_id(payment_id, "payment_id")
        db = await self.db_for(await self.merchant(merchant_id)) if merchant_id else self._base
        with db.track_capacity() as used:
            result = await self._apply(
                db, operation, payment_id, merchant_id, payload, plan, call, caller, wait
            )
        return PaymentResult(result.payment, result.replay, Cost.of(used, self.config.prices))

    def _steps(
        self, operation: str, amount: Money | None
    ) -> tuple[
        Callable[[Payment], Change],
        Callable[[Payment, Change, str], Awaitable[GatewayResult]],
    ]:
        if operation == "void":
            return plan_void, lambda payment, change, key: self.gateway.void(
                payment.gateway_reference, idempotency_key=key
            )
        plan_amount = plan_capture if operation == "capture" else plan_refund

        def call(payment: Payment, change: Change, key: str) -> Awaitable[GatewayResult]:
            send = self.gateway.capture if operation == "capture" else self.gateway.refund
            money = Money(change.amount, payment.currency)
            return send(payment.gateway_reference, money, idempotency_key=key)

        return lambda payment: plan_amount(payment, amount), call

    async def _apply(
        self,
        db: DB,
        operation: str,
        payment_id: str,
        merchant_id: str | None,
        payload: dict[str, Any],
        plan: Callable[[Payment], Change],
        call: Callable[[Payment, Change, str], Awaitable[GatewayResult]],
        caller: Caller,
        wait: bool,
    ) -> PaymentResult:
        payment = await self._load(db, payment_id, merchant_id)
        store = self.store(db)
        claim = await store.claim(
            payment.merchant_id,
            operation,
            caller.idempotency_key,
            canonical_hash({"payment_id": payment_id, **payload}),
            resource_id=payment_id,
            wait=wait,
        )
        if claim.replay:
            return replayed(claim)
        try:
            change = plan(payment)
        except PaymentsError:
            if claim.record.phase is Phase.CLAIMED:
                await store.forget(claim)  # nothing happened: the key may be used again
            else:
                await store.release(claim)
            raise
        log.info("%s payment %s amount=%s", operation, payment_id, change.amount)
        answer = await call_gateway(store, claim, operation, lambda key: call(payment, change, key))
        if not answer.approved:
            await store.forget(claim)
            raise PaymentDeclinedError(
                f"the card processor refused to {operation} payment {payment_id}",
                payment_id=payment_id,
                decline_code=answer.decline_code or answer.outcome.value,
                result=None,
            )

        async def commit() -> Payment:
            current, plan_now = payment, change  # as replan() last left them
            now = db.now()
            tx = db.transaction(token=token(claim.owner, f"{operation}:{current.version}"))
            # the whole item, replaced only if the stored version is the one read (optimistic
            # lock) and its status may still make this transition (+ the refund bound)
            after: Payment = tx.put(
                current.model_copy(update=plan_now.fields),
                overwrite=True,
                condition=plan_now.condition,
            )
            ledger_and_audit(tx, after, current.status, plan_now, caller, answer, now)
            store.complete_in(tx, claim, {"payment": after.model_dump(mode="json")})
            await tx.commit()
            return after

        async def replan() -> None:
            nonlocal payment, change
            fresh = await self._load(db, payment_id, merchant_id)
            payment, change = fresh, plan(fresh)

        return await record(store, claim, commit, replan)
