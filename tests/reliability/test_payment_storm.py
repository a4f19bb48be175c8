"""K keys × N concurrent identical payment requests through a proxy that throttles and loses replies.

What must hold: one card-processor charge per key; every caller gets the stored result or a typed
in-progress error; no other exception; no idempotency record left in progress once the keys are
retried after the storm.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace

import pytest

from asyncdynamo import DB, Config, RetryPolicy
from asyncdynamo.testing import ErrorReply, FaultProxy, Reset, Stage
from payments import (
    PROCESSOR_MODELS,
    FakeGateway,
    IdempotencyRecord,
    IdempotencyState,
    Merchant,
    Payment,
    PaymentInProgressError,
    PaymentResult,
    Processor,
)
from tests.payments.conftest import MERCHANT_ID, MakeTables, payment_request
from tests.reliability.soak import scaled

pytestmark = pytest.mark.integration

KEYS = scaled(5, at_most=50)
CALLERS = scaled(20, at_most=100)
WRITES = ("PutItem", "UpdateItem", "TransactWriteItems")


async def test_concurrent_identical_payments_charge_once_per_key_under_faults(
    db: DB, dynamo_config: Config, fault_proxy: FaultProxy, make_tables: MakeTables
) -> None:
    await make_tables(*PROCESSOR_MODELS)
    await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme", currencies=["USD"]))
    fault_proxy.inject(ErrorReply.throttling(), probability=0.1)
    lost = fault_proxy.inject(Reset(Stage.AFTER_FORWARD), operation=WRITES, probability=0.05)
    config = replace(
        dynamo_config, endpoint_url=fault_proxy.url, retry=RetryPolicy(base=0.005, cap=0.05)
    )
    gateway = FakeGateway()
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    paid: dict[str, set[str]] = {f"order-{k}": set() for k in range(KEYS)}

    async with DB(config) as proxied:
        processor = Processor(proxied, gateway=gateway)

        async def pay(key: str) -> None:
            try:
                result = await processor.process_payment(payment_request(), idempotency_key=key)
            except PaymentInProgressError:
                outcomes["in progress"] += 1
            except Exception as exc:
                unexpected.append(exc)
            else:
                assert isinstance(result, PaymentResult)
                outcomes["replay" if result.replay else "first"] += 1
                paid[key].add(result.payment.payment_id)

        async with asyncio.TaskGroup() as group:
            for key in paid:
                for _ in range(CALLERS):
                    group.create_task(pay(key))

    fault_proxy.clear()
    processor = Processor(db, gateway=gateway)
    for key in paid:  # the storm is over: each key answers its stored payment
        final = await processor.process_payment(payment_request(), idempotency_key=key)
        paid[key].add(final.payment.payment_id)

    print(
        f"\nstorm {KEYS} keys x {CALLERS} callers: {dict(outcomes)}, "
        f"unexpected={len(unexpected)}, lost replies={lost.injected}, "
        f"charges={gateway.total_charges}, proxy={fault_proxy.counts()}"
    )
    assert unexpected == []
    assert sum(outcomes.values()) == KEYS * CALLERS
    assert outcomes["first"] <= KEYS
    assert gateway.charges == Counter(dict.fromkeys(gateway.charges, 1))
    assert len(gateway.charges) == KEYS
    assert all(len(ids) == 1 for ids in paid.values()), paid
    assert len(await db.scan(Payment).all()) == KEYS
    records = await db.scan(IdempotencyRecord).all()
    assert [r.state for r in records] == [IdempotencyState.COMPLETED] * KEYS
