"""Partner accounts, cost tracking and the reusable idempotency helpers, on the moto server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from asyncdynamo import DB, Config, MultiAccountDB, PartnerConfig, create_transport
from asyncdynamo.testing import Endpoint
from payments import (
    PROCESSOR_MODELS,
    Claim,
    Cost,
    DuplicatePaymentError,
    FakeGateway,
    IdempotencyRecord,
    IdempotencyStore,
    Merchant,
    Payment,
    PaymentConfig,
    PaymentInProgressError,
    PaymentStatus,
    Prices,
    Processor,
    idempotent,
    track_cost,
)
from tests.payments.conftest import MakeTables, payment_request

ACME = PartnerConfig(
    partner_id="acme",
    role_arn="arn:aws:iam::111111111111:role/payments-partner",
    external_id="acme-external-7f3a",
)


@pytest.fixture
async def multi(
    db: DB, dynamo_config: Config, dynamo_endpoint: Endpoint, make_tables: MakeTables
) -> AsyncIterator[MultiAccountDB]:
    if not dynamo_endpoint.is_moto:
        pytest.skip("assumes partner roles: moto's server only")
    await make_tables(Merchant)
    await db.put(Merchant(merchant_id="m-partner", name="Partner shop", partner_id="acme"))
    await db.put(Merchant(merchant_id="m-base", name="Own shop"))
    sts = create_transport(dynamo_config, service="sts")
    async with MultiAccountDB(db, [ACME], sts=sts) as mdb:
        acme = await mdb.partner("acme")
        await acme.schema.create(*PROCESSOR_MODELS)
        await make_tables(*(m for m in PROCESSOR_MODELS if m is not Merchant))
        try:
            yield mdb
        finally:
            await acme.schema.delete(*PROCESSOR_MODELS)


async def test_a_partner_merchants_payment_lives_in_the_partners_account(
    multi: MultiAccountDB, db: DB
) -> None:
    processor = Processor(multi, gateway=FakeGateway())
    acme = await multi.partner("acme")

    theirs = await processor.process_payment(
        payment_request(merchant_id="m-partner"), idempotency_key="k"
    )
    ours = await processor.process_payment(
        payment_request(merchant_id="m-base"), idempotency_key="k"
    )

    assert await acme.get(Payment, theirs.payment.payment_id, consistent=True) is not None
    assert await db.get(Payment, theirs.payment.payment_id, consistent=True) is None
    assert await db.get(Payment, ours.payment.payment_id, consistent=True) is not None
    captured = await processor.capture(
        theirs.payment.payment_id, merchant_id="m-partner", idempotency_key="c"
    )
    assert captured.payment.status is PaymentStatus.CAPTURED
    history = await (await processor.audit_log("m-partner")).history(theirs.payment.payment_id)
    assert len(history) == 2


async def test_each_result_and_the_invocation_carry_their_cost(
    payment_tables: DB, dynamo_endpoint: Endpoint
) -> None:
    prices = Prices()
    processor = Processor(
        payment_tables, config=PaymentConfig(prices=prices), gateway=FakeGateway()
    )

    with track_cost(payment_tables, prices) as invocation:
        first = await processor.process_payment(payment_request(), idempotency_key="a")
        second = await processor.process_payment(payment_request(), idempotency_key="b")

    total = invocation.cost
    assert first.cost.write_units > 0 and first.cost.calls >= 3
    assert total.write_units >= first.cost.write_units + second.cost.write_units
    assert total.calls >= first.cost.calls + second.cost.calls
    expected = (
        total.read_units * prices.read_per_million + total.write_units * prices.write_per_million
    ) / 1_000_000
    assert total.amount == expected and total.currency == "USD"
    assert (first.cost + second.cost).calls == first.cost.calls + second.cost.calls
    assert Cost.zero(prices).amount == 0


async def test_the_idempotent_decorator_runs_once_per_key_and_replays(
    db: DB, make_tables: MakeTables
) -> None:
    await make_tables(IdempotencyRecord)
    store = IdempotencyStore(db)
    runs: list[str] = []

    @idempotent(store, key=lambda order_id, carrier: f"ship-{order_id}", scope="m-1")
    async def ship(order_id: str, carrier: str) -> dict[str, str]:
        runs.append(order_id)
        return {"order": order_id, "carrier": carrier}

    first = await ship("42", "ups")
    again = await ship("42", "ups")
    with pytest.raises(DuplicatePaymentError):
        await ship("42", "dhl")

    assert first == again == {"order": "42", "carrier": "ups"}
    assert runs == ["42"]


async def test_a_failed_block_releases_its_key_for_a_retry(db: DB, make_tables: MakeTables) -> None:
    await make_tables(IdempotencyRecord)
    store = IdempotencyStore(db)

    with pytest.raises(RuntimeError):
        async with store.call("m-1", "export", "e1", {"day": "2026-11-30"}) as call:
            raise RuntimeError("disk full")
    async with store.call("m-1", "export", "e1", {"day": "2026-11-30"}) as call:
        assert not call.replay
        call.result = {"rows": 3}
    async with store.call("m-1", "export", "e1", {"day": "2026-11-30"}) as call:
        assert call.replay and call.result == {"rows": 3}


async def test_of_two_retries_after_a_lease_ran_out_only_one_takes_over(
    db: DB, make_tables: MakeTables
) -> None:
    await make_tables(IdempotencyRecord)
    store = IdempotencyStore(db)
    crashed = await store.claim("m-1", "authorize", "k", "h", resource_id="pay_1")
    await store.release(crashed)  # as if its lease had run out

    outcomes = await asyncio.gather(
        store.claim("m-1", "authorize", "k", "h", resource_id="pay_2"),
        store.claim("m-1", "authorize", "k", "h", resource_id="pay_3"),
        return_exceptions=True,
    )

    claims = [o for o in outcomes if isinstance(o, Claim)]
    assert len(claims) == 1 and claims[0].resumed
    assert claims[0].record.resource_id == "pay_1"  # resumes the crashed call's payment
    assert [type(o) for o in outcomes if not isinstance(o, Claim)] == [PaymentInProgressError]


async def test_a_key_past_its_ttl_is_claimed_afresh_though_the_record_is_still_stored(
    dynamo_config: Config, make_tables: MakeTables
) -> None:
    await make_tables(IdempotencyRecord)
    now = [datetime.now(UTC)]
    async with DB(dynamo_config, clock=lambda: now[0]) as db:
        store = IdempotencyStore(db, ttl=timedelta(hours=1), lease=timedelta(seconds=30))
        async with store.call("m-1", "export", "k", {"day": 1}) as call:
            call.result = {"rows": 1}

        now[0] += timedelta(hours=1, seconds=1)  # DynamoDB's TTL may not have deleted it yet
        async with store.call("m-1", "export", "k", {"day": 2}) as call:
            assert not call.replay  # another payload, yet no DuplicatePaymentError
            call.result = {"rows": 2}

        assert len(await db.scan(IdempotencyRecord).all()) == 1
