"""Capture, refund and void: each idempotent, each with exactly one ledger entry and audit record."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from asyncdynamo import DB, attr
from payments import (
    AuditEvent,
    AuditLog,
    DuplicatePaymentError,
    FakeGateway,
    InvalidMerchantError,
    InvalidTransitionError,
    LedgerKind,
    Merchant,
    Money,
    Payment,
    PaymentNotFoundError,
    PaymentStatus,
    Processor,
    RefundExceedsCaptureError,
    Transaction,
    to_json_lines,
)
from tests.payments.conftest import MERCHANT_ID, payment_request


async def authorized(processor: Processor, minor: int = 1000) -> Payment:
    return (await processor.process_payment(payment_request(minor), idempotency_key="auth")).payment


async def test_capture_then_partial_and_full_refunds_each_leave_one_audit_record(
    processor: Processor, payment_tables: DB
) -> None:
    payment = await authorized(processor)
    pid = payment.payment_id

    captured = await processor.capture(pid, idempotency_key="cap")
    part = await processor.refund(pid, amount=Money(300, "USD"), idempotency_key="r1")
    rest = await processor.refund(pid, amount=Money(700, "USD"), idempotency_key="r2")

    assert captured.payment.status is PaymentStatus.CAPTURED
    assert (part.payment.status, part.payment.refunded_amount) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        300,
    )
    assert (rest.payment.status, rest.payment.refunded_amount) == (PaymentStatus.REFUNDED, 1000)
    assert await payment_tables.get(Payment, pid, consistent=True) == rest.payment
    history = await AuditLog(payment_tables).history(pid)
    assert [(r.seq, r.event, r.before_status, r.after_status) for r in history] == [
        (1, AuditEvent.AUTHORIZED, PaymentStatus.PENDING, PaymentStatus.AUTHORIZED),
        (2, AuditEvent.CAPTURED, PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED),
        (3, AuditEvent.REFUNDED, PaymentStatus.CAPTURED, PaymentStatus.PARTIALLY_REFUNDED),
        (4, AuditEvent.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED),
    ]
    ledger = await payment_tables.query(Transaction).where(attr("payment_id") == pid).all()
    assert [(e.kind, e.amount) for e in ledger] == [
        (LedgerKind.AUTHORIZATION, 1000),
        (LedgerKind.CAPTURE, 1000),
        (LedgerKind.REFUND, 300),
        (LedgerKind.REFUND, 700),
    ]


async def test_replayed_changes_add_no_audit_record_and_no_gateway_call(
    processor: Processor, gateway: FakeGateway, payment_tables: DB
) -> None:
    pid = (await authorized(processor)).payment_id
    first = await processor.capture(pid, amount=Money(600, "USD"), idempotency_key="cap")
    again = await processor.capture(pid, amount=Money(600, "USD"), idempotency_key="cap")

    assert again.replay and again.payment == first.payment
    assert first.payment.captured_amount == 600
    assert len(await AuditLog(payment_tables).history(pid)) == 2
    assert gateway.total_charges == 2  # the authorization and one capture
    with pytest.raises(DuplicatePaymentError):
        await processor.capture(pid, amount=Money(500, "USD"), idempotency_key="cap")


async def test_a_refund_beyond_the_captured_amount_is_rejected(processor: Processor) -> None:
    pid = (await authorized(processor)).payment_id
    await processor.capture(pid, amount=Money(800, "USD"), idempotency_key="cap")

    with pytest.raises(RefundExceedsCaptureError) as caught:
        await processor.refund(pid, amount=Money(801, "USD"), idempotency_key="r1")
    assert (caught.value.requested, caught.value.refundable) == (801, 800)
    # the rejected key was never used: it may be used again for a valid refund
    ok = await processor.refund(pid, amount=Money(800, "USD"), idempotency_key="r1")
    assert ok.payment.status is PaymentStatus.REFUNDED


async def test_concurrent_refunds_never_exceed_the_captured_amount(
    processor: Processor, payment_tables: DB
) -> None:
    pid = (await authorized(processor)).payment_id
    await processor.capture(pid, idempotency_key="cap")

    outcomes = await asyncio.gather(
        processor.refund(pid, amount=Money(700, "USD"), idempotency_key="ra"),
        processor.refund(pid, amount=Money(700, "USD"), idempotency_key="rb"),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == [
        "PaymentResult",
        "RefundExceedsCaptureError",
    ]
    stored = await payment_tables.get(Payment, pid, consistent=True, required=True)
    assert stored.refunded_amount == 700
    assert len(await AuditLog(payment_tables).history(pid)) == 3


async def test_void_cancels_an_authorization_and_blocks_capture(processor: Processor) -> None:
    pid = (await authorized(processor)).payment_id
    voided = await processor.void(pid, idempotency_key="v")
    assert voided.payment.status is PaymentStatus.VOIDED

    with pytest.raises(InvalidTransitionError) as caught:
        await processor.capture(pid, idempotency_key="cap")
    assert (caught.value.current, caught.value.target) == (
        PaymentStatus.VOIDED,
        PaymentStatus.CAPTURED,
    )


async def test_a_merchants_audit_log_reads_by_time_and_exports_json_lines(
    processor: Processor, payment_tables: DB
) -> None:
    pid = (await authorized(processor)).payment_id
    await processor.capture(pid, idempotency_key="cap")
    log = AuditLog(payment_tables)

    newest_first = [r async for r in log.merchant_log(MERCHANT_ID)]
    lines = [line async for line in log.export(MERCHANT_ID)]

    assert [r.event for r in newest_first] == [AuditEvent.CAPTURED, AuditEvent.AUTHORIZED]
    assert len(lines) == 2 and all(line.endswith("\n") for line in lines)
    assert '"event": "payment.authorized"' in lines[0]
    assert to_json_lines(reversed(newest_first)) == "".join(lines)
    later = newest_first[0].at + timedelta(seconds=1)
    assert [r async for r in log.merchant_log(MERCHANT_ID, since=later)] == []
    assert len([r async for r in log.merchant_log(MERCHANT_ID, until=later)]) == 2


async def test_the_fake_gateways_settlement_report_lists_what_it_charged(
    processor: Processor, gateway: FakeGateway
) -> None:
    pid = (await authorized(processor)).payment_id
    await processor.capture(pid, amount=Money(400, "USD"), idempotency_key="cap")

    report = await gateway.settlement_report(gateway.today)

    assert [(line.kind, line.amount) for line in report] == [
        ("authorization", Money(1000, "USD")),
        ("capture", Money(400, "USD")),
    ]


async def test_another_merchant_cannot_change_a_payment(
    processor: Processor, payment_tables: DB
) -> None:
    await payment_tables.put(Merchant(merchant_id="m-other", name="Other"))
    pid = (await authorized(processor)).payment_id

    with pytest.raises(PaymentNotFoundError):
        await processor.capture(pid, merchant_id="m-other", idempotency_key="cap")
    with pytest.raises(PaymentNotFoundError):
        await processor.get_payment(pid, merchant_id="m-other")
    assert (await processor.get_payment(pid, merchant_id=MERCHANT_ID)).payment_id == pid


async def test_a_partner_merchant_without_a_multi_account_db_is_refused(
    processor: Processor, payment_tables: DB, gateway: FakeGateway
) -> None:
    await payment_tables.put(Merchant(merchant_id="m-p", name="P", partner_id="acme"))

    with pytest.raises(InvalidMerchantError) as caught:
        await processor.process_payment(payment_request(merchant_id="m-p"), idempotency_key="k")
    assert caught.value.merchant_id == "m-p" and gateway.calls == {}
