"""Writes whose reply was lost were applied: payments recognises its own writes and never
records a payment twice, nor reports its own claim as a conflict."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest

from asyncdynamo import DB, Config, ConnectionFailedError, Transport, create_transport
from payments import (
    PROCESSOR_MODELS,
    AuditRecord,
    FakeGateway,
    IdempotencyRecord,
    IdempotencyState,
    Merchant,
    Payment,
    Processor,
)
from tests.payments.conftest import MERCHANT_ID, MakeTables, payment_request

Lose = Callable[[str, Mapping[str, Any]], bool]


class LosesReplies:
    """Sends every call, then drops the reply of the ones ``lose`` picks (once each)."""

    def __init__(self, inner: Transport, lose: Lose) -> None:
        self.inner = inner
        self.lose = lose
        self.lost: list[str] = []

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.inner.call(operation, params)
        if self.lose(operation, params):
            self.lost.append(operation)
            raise ConnectionFailedError(f"{operation}: connection reset after sending")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def first(operation: str, table_suffix: str) -> Lose:
    done: list[bool] = []

    def pick(op: str, params: Mapping[str, Any]) -> bool:
        table = str(params.get("TableName", ""))
        if operation == "TransactWriteItems" and op == operation:
            table = table_suffix
        if op == operation and table.endswith(table_suffix) and not done:
            done.append(True)
            return True
        return False

    return pick


@pytest.fixture
async def lossy(
    dynamo_config: Config, make_tables: MakeTables, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[DB, LosesReplies]]:
    await make_tables(*PROCESSOR_MODELS)
    operation, table = request.param
    transport = LosesReplies(create_transport(dynamo_config), first(operation, table))
    async with DB(dynamo_config, transport=transport) as db:
        await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme"))
        yield db, transport


@pytest.mark.parametrize(
    "lossy",
    [
        pytest.param(("PutItem", "idempotency"), id="claim"),
        pytest.param(("UpdateItem", "idempotency"), id="phase"),
        pytest.param(("TransactWriteItems", "*"), id="record"),
    ],
    indirect=True,
)
async def test_a_lost_reply_still_records_one_payment_with_one_charge(
    lossy: tuple[DB, LosesReplies],
) -> None:
    db, transport = lossy
    gateway = FakeGateway()
    processor = Processor(db, gateway=gateway)

    result = await processor.process_payment(payment_request(), idempotency_key="k")

    assert transport.lost, "the scenario did not lose a reply"
    assert not result.replay
    assert gateway.total_charges == 1
    assert [p.payment_id for p in await db.scan(Payment).all()] == [result.payment.payment_id]
    assert len(await db.scan(AuditRecord).all()) == 1
    (record,) = await db.scan(IdempotencyRecord).all()
    assert record.state is IdempotencyState.COMPLETED
