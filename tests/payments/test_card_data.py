"""The card number never appears in clear: not in logs, errors, repr, audit or stored items;
card verification data cannot be declared on a stored model."""

from __future__ import annotations

import logging
import pickle
from dataclasses import replace
from typing import Annotated

import pytest

from asyncdynamo import DB, Config, ConfigurationError, PartitionKey, create_transport
from asyncdynamo.testing import Endpoint
from payments import (
    PROCESSOR_MODELS,
    Card,
    CardDetails,
    DuplicatePaymentError,
    FakeGateway,
    Merchant,
    PaymentConfig,
    PaymentDeclinedError,
    PaymentRequestError,
    Processor,
    SensitiveFieldError,
    StoredModel,
)
from tests.payments.conftest import MERCHANT_ID, TEST_PAN, MakeTables, card, payment_request


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


async def test_with_a_kms_key_the_card_vault_holds_the_number_only_encrypted(
    dynamo_config: Config, dynamo_endpoint: Endpoint, make_tables: MakeTables
) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("creates a KMS key: moto's server only")
    kms = create_transport(
        replace(dynamo_config, endpoint_url=dynamo_config.kms_endpoint_url), service="kms"
    )
    try:
        key = (await kms.call("CreateKey", {"Description": "payments tests"}))["KeyMetadata"]["Arn"]
    finally:
        await kms.aclose()
    config = PaymentConfig(kms_key_id=key)
    await make_tables(*PROCESSOR_MODELS, Card)
    async with DB(config.db_config(dynamo_config)) as db:
        await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme"))
        processor = Processor(db, config=config, gateway=FakeGateway())

        result = await processor.process_payment(payment_request(), idempotency_key="k")

        token = result.payment.card_token
        raw = await db.client.call(
            "GetItem", {"TableName": db.table_name(Card), "Key": {"token": {"S": token}}}
        )
        assert TEST_PAN not in repr(raw["Item"])
        vaulted = await db.get(Card, token, consistent=True, required=True)
        assert vaulted.pan == TEST_PAN and vaulted.last4 == "4242"


def test_a_processor_whose_db_does_not_seal_with_the_configured_key_is_refused(
    dynamo_config: Config,
) -> None:
    with pytest.raises(ConfigurationError):
        Processor(
            DB(dynamo_config), config=PaymentConfig(kms_key_id="alias/pci"), gateway=FakeGateway()
        )
