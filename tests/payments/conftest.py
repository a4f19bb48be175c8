"""Fixtures for the payments tests: fresh tables on the moto server, a merchant, a fake gateway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from asyncdynamo import DB
from payments import (
    PROCESSOR_MODELS,
    CardDetails,
    FakeGateway,
    Merchant,
    Money,
    PaymentConfig,
    PaymentRequest,
    Processor,
)

MakeTables = Callable[..., Awaitable[list[str]]]

TEST_PAN = "4242424242424242"
MERCHANT_ID = "m-acme"


def card(number: str = TEST_PAN) -> CardDetails:
    return CardDetails(number, exp_month=12, exp_year=2030, cvc="123")


def payment_request(minor: int = 1250, currency: str = "USD", **changes: Any) -> PaymentRequest:
    fields: dict[str, Any] = {
        "merchant_id": MERCHANT_ID,
        "amount": Money(minor, currency),
        "card": card(),
        "customer_id": "c-1",
        "description": "order 42",
    }
    fields.update(changes)
    return PaymentRequest(**fields)


@pytest.fixture
async def payment_tables(db: DB, make_tables: MakeTables) -> DB:
    """The processor's tables, created fresh, with one active merchant."""
    await make_tables(*PROCESSOR_MODELS)
    await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme", currencies=["USD", "JPY"]))
    return db


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def processor(payment_tables: DB, gateway: FakeGateway) -> Processor:
    return Processor(payment_tables, config=PaymentConfig(), gateway=gateway)
