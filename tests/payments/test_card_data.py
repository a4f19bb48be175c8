"""The card number never appears in clear: not in logs, errors, repr, audit or stored items;
card verification data cannot be declared on a stored model."""

from __future__ import annotations

import logging
import pickle
from typing import Annotated

import pytest

from asyncdynamo import DB, PartitionKey
from payments import (
    PROCESSOR_MODELS,
    CardDetails,
    DuplicatePaymentError,
    FakeGateway,
    PaymentDeclinedError,
    PaymentRequestError,
    Processor,
    SensitiveFieldError,
    StoredModel,
)
from tests.payments.conftest import TEST_PAN, card, payment_request


async def test_no_card_number_in_logs_errors_or_stored_items(
    payment_tables: DB, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = FakeGateway()
    processor = Processor(payment_tables, gateway=gateway)
    seen: list[str] = []

    result = await processor.process_payment(payment_request(), idempotency_key="k")
    seen.append(repr(result))
    with pytest.raises(DuplicatePaymentError) as duplicate:
        await processor.process_payment(payment_request(999), idempotency_key="k")
    gateway.decline = "do_not_honor"
    with pytest.raises(PaymentDeclinedError) as declined:
        await processor.process_payment(payment_request(), idempotency_key="k2")
    await processor.capture(result.payment.payment_id, idempotency_key="c")

    seen += [str(duplicate.value), str(declined.value), repr(declined.value.result)]
    seen += [record.getMessage() for record in caplog.records]
    seen += [repr(payment_request()), str(card())]
    for model in PROCESSOR_MODELS:
        seen += [repr(item) async for item in payment_tables.scan(model)]
    assert caplog.records, "the processor logged nothing; the test would prove nothing"
    for text in seen:
        assert TEST_PAN not in text
        assert TEST_PAN[:12] not in text


def test_a_bad_card_number_error_does_not_echo_it() -> None:
    with pytest.raises(PaymentRequestError) as caught:
        CardDetails("4242424242424241", exp_month=1, exp_year=2030)  # bad check digit
    assert caught.value.field == "card.number"
    assert "4242424242424241" not in str(caught.value)


def test_card_details_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(card())


def test_declaring_a_verification_code_on_a_stored_model_fails_at_class_definition() -> None:
    with pytest.raises(SensitiveFieldError) as caught:

        class Leaky(StoredModel):
            __table__ = "leaky"
            id: Annotated[str, PartitionKey]
            card_cvv2: str

    assert (caught.value.model, caught.value.field) == ("Leaky", "card_cvv2")
