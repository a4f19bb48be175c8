"""No card number in anything a payment leaves behind, also when things go wrong.

The detector (:mod:`tests.reliability.cards`) is shown to find real card numbers of every network
and to pass over numbers that only look like them (millisecond timestamps passing Luhn); the
session watch (:mod:`tests.reliability.pan_watch`) is shown to catch one planted in a log line, an
exception, an audit record and a span. Then payments are made through a traced LambdaDB behind a
proxy that loses replies and throttles, with the card vault encrypted: process, replay, duplicate,
capture, partial and full refund, decline, processor outage, invalid card, a call in progress,
with the card numbers the payments tests use. Their logs (DEBUG), exceptions, audit records,
spans, stored items and results must hold no card number.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from opentelemetry import trace

from asyncdynamo import Config, LambdaConfig, LambdaDB, LambdaEnvironment, Model
from asyncdynamo.testing import ErrorReply, FaultProxy, Reset, Stage
from payments import (
    PROCESSOR_MODELS,
    AuditEvent,
    AuditRecord,
    Card,
    CardDetails,
    FakeGateway,
    Merchant,
    Money,
    PaymentConfig,
    PaymentsError,
    PaymentStatus,
    Processor,
)
from tests.payments.conftest import MERCHANT_ID, TEST_PAN, MakeTables, payment_request
from tests.reliability.cards import luhn_valid, pans_in, with_check_digit
from tests.reliability.pan_watch import PanWatch, exception_texts

# test numbers of each network (the networks' published test cards)
NETWORK_PANS = {
    "visa": "4242424242424242",
    "visa 13": "4222222222222",
    "mastercard": "5555555555554444",
    "mastercard 2-series": "2223003122003222",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "jcb": "3566002020360505",
    "diners": "30569309025904",
    "unionpay": "6200000000000005",
}
# the card numbers the payments tests pay with
PAYMENTS_TEST_PANS = [TEST_PAN, "4000000000024242"]


@pytest.mark.parametrize("name", sorted(NETWORK_PANS))
def test_the_detector_finds_each_networks_card_numbers(name: str) -> None:
    pan = NETWORK_PANS[name]
    groups = " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))
    assert pans_in([f"card={pan}.", f"({groups})", f'"{pan}"\n']) == [pan] * 3


def test_the_detector_finds_printed_groups_and_numbers_in_text() -> None:
    texts = [
        "4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "3782 822463 10005",
        "pan:4242424242424242",
        "number4242424242424242",
    ]
    assert pans_in(texts) == [TEST_PAN, TEST_PAN, NETWORK_PANS["amex"], TEST_PAN, TEST_PAN]


def test_the_detector_passes_over_numbers_that_are_not_card_numbers() -> None:
    timestamp = "1796036690404"  # a millisecond timestamp that passes Luhn
    assert luhn_valid(timestamp)
    not_cards = [
        f"at={timestamp}",
        "4242424242424241",  # bad check digit
        "1" + TEST_PAN,  # part of a longer run of digits
        TEST_PAN + "0",
        with_check_digit("999999999999999"),  # no network issues 9...
        with_check_digit("5600000000000"),  # 56 is no Mastercard range
        with_check_digit("424242424242424242"[:14]),  # Visa does not issue 15 digits
        "4242 4242-4242 4242",  # mixed separators: not a printed card number
        "order 1234567890123",
        "Signature=1ecd0235d5ce4161571732219e8ebe89",  # digits inside a hexadecimal token
    ]
    assert pans_in(not_cards) == []


def test_the_watch_catches_a_card_number_planted_in_a_log_an_error_an_audit_record_and_a_span() -> (
    None
):
    with PanWatch() as watch:  # innermost: the session's watch sees none of this
        logging.getLogger("tests.planted").debug("charging card %s", TEST_PAN)
        try:
            raise PaymentsError(f"declined {NETWORK_PANS['mastercard']}")
        except PaymentsError:
            logging.getLogger("tests.planted").exception("failed")
        AuditRecord(
            payment_id="p-1",
            seq=1,
            merchant_id=MERCHANT_ID,
            at=datetime.now(UTC),
            event=AuditEvent.AUTHORIZED,
            actor="test",
            before_status=PaymentStatus.PENDING,
            after_status=PaymentStatus.AUTHORIZED,
            amount=1,
            currency="USD",
            request_id="r",
            idempotency_key="k",
            card=NETWORK_PANS["amex"],
        )
        tracer = trace.get_tracer("planted", tracer_provider=watch.tracer_provider)
        with tracer.start_as_current_span("charge") as span:
            span.set_attribute("card", NETWORK_PANS["discover"])
        found = watch.findings()
    assert set(found) == (
        {
            ("log record of tests.planted", TEST_PAN),
            ("log record of tests.planted", NETWORK_PANS["mastercard"]),  # its exc_info
            ("exception PaymentsError", NETWORK_PANS["mastercard"]),
            ("AuditRecord", NETWORK_PANS["amex"]),
            ("span charge", NETWORK_PANS["discover"]),
        }
    )


@pytest.mark.integration
async def test_no_card_number_in_logs_errors_spans_audit_or_items(
    dynamo_config: Config,
    fault_proxy: FaultProxy,
    kms_key: str,
    make_tables: MakeTables,
    pan_watch: PanWatch,
) -> None:
    await make_tables(*PROCESSOR_MODELS, Card)
    config = PaymentConfig(kms_key_id=kms_key)
    base = config.db_config(replace(dynamo_config, endpoint_url=fault_proxy.url))
    lambda_config = LambdaConfig(
        base_config=base,
        environment=LambdaEnvironment(),
        enable_xray=True,
        tracer_provider=pan_watch.tracer_provider,
    )
    texts: list[str] = []
    errors: list[BaseException] = []
    gateway = FakeGateway()

    async with LambdaDB(lambda_config) as db:
        await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme", currencies=["USD"]))
        processor = Processor(db, config=config, gateway=gateway)

        async def attempt(call: Any, *args: Any, **kwargs: Any) -> str | None:
            try:
                result = await call(*args, **kwargs)
            except (PaymentsError, ValueError) as exc:
                errors.append(exc)
                return None
            texts.extend([repr(result), str(result), repr(result.payment)])
            return str(result.payment.payment_id)

        fault_proxy.inject(Reset(Stage.AFTER_FORWARD), operation="PutItem", nth=2)
        fault_proxy.inject(Reset(Stage.AFTER_FORWARD), operation="TransactWriteItems", nth=3)
        fault_proxy.inject(ErrorReply.throttling(), probability=0.1)
        for n, pan in enumerate(PAYMENTS_TEST_PANS):
            card = CardDetails(pan, exp_month=12, exp_year=2030, cvc="123")
            request = payment_request(card=card)
            texts.extend([repr(request), str(request), repr(card), str(card)])
            pid = await attempt(processor.process_payment, request, idempotency_key=f"k{n}")
            await attempt(processor.process_payment, request, idempotency_key=f"k{n}")  # replay
            duplicate = payment_request(minor=99, card=card)
            await attempt(processor.process_payment, duplicate, idempotency_key=f"k{n}")
            assert pid is not None
            await attempt(processor.capture, pid, idempotency_key=f"cap{n}")
            await attempt(processor.refund, pid, idempotency_key=f"r{n}", amount=Money(50, "USD"))
            await attempt(processor.refund, pid, idempotency_key=f"rr{n}")  # the rest
            await attempt(processor.refund, pid, idempotency_key=f"rx{n}", amount=Money(1, "USD"))
        request = payment_request()
        gateway.decline = "do_not_honor"
        await attempt(processor.process_payment, request, idempotency_key="declined")
        gateway.decline = None
        gateway.timeouts_before_charge = 3
        await attempt(processor.process_payment, request, idempotency_key="outage")
        try:
            CardDetails(TEST_PAN[:-1] + "1", exp_month=12, exp_year=2030)
        except ValueError as exc:
            errors.append(exc)
        gateway.hold = asyncio.Event()
        gateway.entered.clear()
        first = asyncio.create_task(
            attempt(processor.process_payment, request, idempotency_key="held")
        )
        async with asyncio.timeout(30):
            await gateway.entered.wait()
        await attempt(processor.process_payment, request, idempotency_key="held")  # in progress
        gateway.hold.set()
        await first

        models: list[type[Model]] = [*PROCESSOR_MODELS, Card]
        for model in models:
            scanned = await db.client.call("Scan", {"TableName": db.table_name(model)})
            texts.append(repr(scanned["Items"]))
            texts.extend(repr(item) for item in await db.scan(model).all())
        assert pid is not None
        audit = await (await processor.audit_log(MERCHANT_ID)).history(pid)

    names = {type(exc).__name__ for exc in errors}
    assert names & {"RefundExceedsCaptureError", "InvalidTransitionError"}, (
        names
    )  # refunded past all
    assert names >= {
        "DuplicatePaymentError",
        "PaymentDeclinedError",
        "GatewayUnavailableError",
        "PaymentRequestError",
        "PaymentInProgressError",
    }
    assert [record.event for record in audit][:2] == [AuditEvent.AUTHORIZED, AuditEvent.CAPTURED]
    assert pan_watch.tracer_provider is not None and pan_watch.span_exporter.get_finished_spans()
    texts.extend(text for exc in errors for text in exception_texts(exc))
    texts.extend(repr(record) for record in audit)
    assert pans_in(texts) == []
    assert pan_watch.findings() == []
