"""A payment end to end on the moto server, in the shape users copy; replays and conflicts."""

from __future__ import annotations

import asyncio
import json

import pytest

from asyncdynamo import DB, Config, LambdaConfig, LambdaDB, attr, new_lambda_optimized
from asyncdynamo.lambda_testing import LambdaContext
from payments import (
    PROCESSOR_MODELS,
    AuditEvent,
    AuditRecord,
    AuthorizationRequest,
    DuplicatePaymentError,
    FakeGateway,
    GatewayUnavailableError,
    IdempotencyRecord,
    IdempotencyState,
    IdempotencyStore,
    InvalidMerchantError,
    LedgerKind,
    Merchant,
    Payment,
    PaymentConfig,
    PaymentDeclinedError,
    PaymentInProgressError,
    PaymentRequestError,
    PaymentStatus,
    Phase,
    Processor,
    Transaction,
    canonical_hash,
)
from tests.payments.conftest import MERCHANT_ID, MakeTables, payment_request


async def test_a_payment_end_to_end_stores_payment_ledger_audit_and_key(
    dynamo_config: Config, make_tables: MakeTables
) -> None:
    await make_tables(*PROCESSOR_MODELS)
    config = PaymentConfig()
    db = await new_lambda_optimized(LambdaConfig(base_config=config.db_config(dynamo_config)))
    try:
        await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme"))
        gateway = FakeGateway()
        invocation = db.with_lambda_timeout(LambdaContext(timeout=30))
        processor = Processor(invocation, config=config, gateway=gateway)

        result = await processor.process_payment(payment_request(), idempotency_key="order-42")

        payment = result.payment
        assert not result.replay
        assert payment.status is PaymentStatus.AUTHORIZED
        assert (payment.amount, payment.currency, payment.card_last4) == (1250, "USD", "4242")
        assert payment.card_token.startswith("tok_")
        assert await db.get(Payment, payment.payment_id, consistent=True) == payment
        ledger = await db.query(Transaction).where(attr("payment_id") == payment.payment_id).all()
        assert [(e.kind, e.amount, e.seq) for e in ledger] == [(LedgerKind.AUTHORIZATION, 1250, 1)]
        (audit,) = await processor.audit().history(payment.payment_id)
        assert (audit.event, audit.before_status, audit.after_status) == (
            AuditEvent.AUTHORIZED,
            PaymentStatus.PENDING,
            PaymentStatus.AUTHORIZED,
        )
        assert (audit.idempotency_key, audit.card, audit.amount) == ("order-42", "**** 4242", 1250)
        (record,) = await db.scan(IdempotencyRecord).all()
        assert (record.state, record.phase, record.resource_id) == (
            IdempotencyState.COMPLETED,
            Phase.RECORDED,
            payment.payment_id,
        )
        assert json.loads(record.response or "")["payment"]["payment_id"] == payment.payment_id
        assert gateway.total_charges == 1
        assert result.cost.write_units > 0
    finally:
        await LambdaDB.reset_process_instance()


async def test_the_same_key_and_request_replays_the_stored_result(
    processor: Processor, gateway: FakeGateway
) -> None:
    first = await processor.process_payment(payment_request(), idempotency_key="k1")
    again = await processor.process_payment(payment_request(), idempotency_key="k1")

    assert again.replay and not first.replay
    assert again.payment == first.payment
    assert gateway.total_charges == 1


async def test_the_same_key_with_another_payload_is_a_duplicate(processor: Processor) -> None:
    await processor.process_payment(payment_request(1250), idempotency_key="k1")

    with pytest.raises(DuplicatePaymentError) as caught:
        await processor.process_payment(payment_request(1300), idempotency_key="k1")
    assert caught.value.key == "k1"


async def test_a_key_in_flight_is_reported_in_progress(
    payment_tables: DB, gateway: FakeGateway
) -> None:
    gateway.hold = asyncio.Event()  # the first call stays inside the card processor
    processor = Processor(payment_tables, gateway=gateway)
    first = asyncio.create_task(processor.process_payment(payment_request(), idempotency_key="k"))
    await gateway.entered.wait()  # it has claimed the key
    with pytest.raises(PaymentInProgressError) as caught:
        await processor.process_payment(payment_request(), idempotency_key="k")
    assert caught.value.retryable and caught.value.retry_after > 0
    gateway.hold.set()
    await first


async def test_a_waiting_call_gets_the_first_calls_result(
    payment_tables: DB, gateway: FakeGateway
) -> None:
    hold = gateway.hold = asyncio.Event()
    polls: list[float] = []

    async def poll_pause(delay: float) -> None:
        polls.append(delay)
        hold.set()  # the waiter is waiting: let the first call finish

    class Observed(Processor):
        def store(self, db: DB) -> IdempotencyStore:
            store = super().store(db)
            store.sleep = poll_pause
            return store

    processor = Observed(payment_tables, gateway=gateway)
    first = asyncio.create_task(processor.process_payment(payment_request(), idempotency_key="k"))
    await gateway.entered.wait()
    waited = await processor.process_payment(payment_request(), idempotency_key="k", wait=True)
    assert polls and waited.replay
    assert waited.payment == (await first).payment


async def test_fifty_concurrent_identical_requests_charge_once(
    processor: Processor, gateway: FakeGateway, payment_tables: DB
) -> None:
    async def attempt() -> str:
        try:
            result = await processor.process_payment(payment_request(), idempotency_key="same")
        except PaymentInProgressError:
            return "in progress"
        return result.payment.payment_id

    outcomes = await asyncio.gather(*(attempt() for _ in range(50)))

    assert gateway.total_charges == 1
    assert len(set(outcomes) - {"in progress"}) == 1
    final = await processor.process_payment(payment_request(), idempotency_key="same")
    assert final.replay and final.payment.payment_id in outcomes
    assert len(await payment_tables.scan(Payment).all()) == 1
    assert len(await payment_tables.scan(AuditRecord).all()) == 1


async def test_a_gateway_timeout_after_charging_ends_in_one_charge_on_retry(
    processor: Processor, gateway: FakeGateway, payment_tables: DB
) -> None:
    gateway.timeouts_after_charge = 1

    with pytest.raises(GatewayUnavailableError) as caught:
        await processor.process_payment(payment_request(), idempotency_key="k")
    assert caught.value.retryable
    result = await processor.process_payment(payment_request(), idempotency_key="k")

    assert result.payment.status is PaymentStatus.AUTHORIZED and not result.replay
    assert gateway.total_charges == 1
    assert sum(gateway.calls.values()) == 2  # the retry asked again with our key
    assert len(await payment_tables.scan(Payment).all()) == 1


async def test_a_retry_after_a_crash_past_the_gateway_resumes_without_calling_it(
    processor: Processor, gateway: FakeGateway, payment_tables: DB
) -> None:
    # The first call recorded "gateway called", then crashed before its transaction.
    store = processor.store(payment_tables)
    request = payment_request()
    request_hash = canonical_hash(request.canonical())
    claim = await store.claim(MERCHANT_ID, "authorize", "k", request_hash, resource_id="pay_x")
    auth = await gateway.authorize(
        AuthorizationRequest(MERCHANT_ID, request.amount, request.card), idempotency_key="gw"
    )
    progress = {
        "outcome": auth.outcome.value,
        "reference": auth.reference,
        "card_token": auth.card_token,
        "decline_code": "",
    }
    await store.record_phase(claim, Phase.GATEWAY_CALLED, {"gateway": progress})
    await store.release(claim)  # the crashed call's lease is over

    result = await processor.process_payment(request, idempotency_key="k")

    assert result.payment.payment_id == "pay_x"
    assert result.payment.gateway_reference == auth.reference
    assert gateway.total_charges == 1


async def test_a_decline_is_recorded_and_replayed(
    processor: Processor, gateway: FakeGateway, payment_tables: DB
) -> None:
    gateway.decline = "insufficient_funds"
    with pytest.raises(PaymentDeclinedError) as caught:
        await processor.process_payment(payment_request(), idempotency_key="k")
    assert caught.value.decline_code == "insufficient_funds"
    stored = await payment_tables.get(Payment, caught.value.payment_id, required=True)
    assert stored.status is PaymentStatus.DECLINED

    with pytest.raises(PaymentDeclinedError) as again:
        await processor.process_payment(payment_request(), idempotency_key="k")
    assert again.value.result.replay


async def test_unknown_or_inactive_merchants_are_refused_before_any_write(
    processor: Processor, payment_tables: DB, gateway: FakeGateway
) -> None:
    await payment_tables.put(Merchant(merchant_id="m-closed", name="Closed", active=False))
    for merchant in ("m-unknown", "m-closed"):
        with pytest.raises(InvalidMerchantError) as caught:
            await processor.process_payment(
                payment_request(merchant_id=merchant), idempotency_key="k"
            )
        assert caught.value.merchant_id == merchant
    assert await payment_tables.scan(IdempotencyRecord).all() == []
    assert gateway.calls == {}


async def test_an_amount_over_the_maximum_is_a_request_error(payment_tables: DB) -> None:
    processor = Processor(payment_tables, gateway=FakeGateway())
    with pytest.raises(PaymentRequestError) as caught:
        await processor.process_payment(payment_request(10_000_001), idempotency_key="k")
    assert caught.value.field == "amount"
