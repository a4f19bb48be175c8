"""``reconcile``, ``settle`` and ``lookup``: fan-out across partner accounts (moto STS gives each
assumed role its own account)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from asyncdynamo import DB, Config, MultiAccountDB, PartnerConfig, create_transport
from asyncdynamo.testing import Endpoint
from payments import (
    PROCESSOR_MODELS,
    FakeGateway,
    LedgerKind,
    Merchant,
    Money,
    PaymentStatus,
    SettlementLine,
    Transaction,
)
from payments._reconcile import ReconciliationReport
from payments.events import load_event
from payments.handlers import configure, lookup, reconcile, reset, settle
from tests.payments.conftest import MakeTables
from tests.payments.handlers.conftest import handler_settings, install, invoke

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lean_only")]


def partner(partner_id: str, account: str) -> PartnerConfig:
    return PartnerConfig(
        partner_id=partner_id,
        role_arn=f"arn:aws:iam::{account}:role/payments-partner",
        external_id=f"{partner_id}-external-id",
    )


FAST, BROKEN, SLOW = (
    partner("fast", "311111111111"),
    partner("broken", "322222222222"),
    partner("slow", "333333333333"),
)
GLOBEX = partner("globex", "344444444444")


TODAY = datetime.now(UTC).date()


@pytest.fixture
def moto_only(dynamo_endpoint: Endpoint) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("assumes partner roles: moto's server only")


async def partner_tables(
    db: DB, config: Config, partners: Sequence[PartnerConfig], *models: type[Any]
) -> AsyncIterator[MultiAccountDB]:
    sts = create_transport(config, service="sts")
    async with MultiAccountDB(db, list(partners), sts=sts) as multi:
        for p in partners:
            await (await multi.partner(p.partner_id)).schema.create(*models)
        try:
            yield multi
        finally:
            for p in partners:
                await (await multi.partner(p.partner_id)).schema.delete(*models)


@dataclass
class ScriptedSettlements:
    """Settlement reports per partner; a partner can fail or be slow."""

    lines: dict[str, list[SettlementLine]]
    failing: set[str] = field(default_factory=set)
    delay: dict[str, float] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)

    async def settlement_report(self, partner_id: str, day: date) -> Sequence[SettlementLine]:
        self.calls[partner_id] += 1
        if partner_id in self.failing:
            raise ConnectionError(f"{partner_id}: the processor's report is unavailable")
        await asyncio.sleep(self.delay.get(partner_id, 0.0))
        return self.lines.get(partner_id, [])


def entry(payment_id: str, seq: int, kind: LedgerKind, amount: int, reference: str) -> Transaction:
    return Transaction(
        payment_id=payment_id,
        seq=seq,
        kind=kind,
        merchant_id="m-x",
        amount=amount,
        currency="USD",
        status_after=PaymentStatus.AUTHORIZED,
        gateway_reference=reference,
        idempotency_key=f"k-{payment_id}-{seq}",
        created_at=datetime.now(UTC),
    )


def line(reference: str, kind: str, amount: int) -> SettlementLine:
    return SettlementLine(reference, kind, Money(amount, "USD"))


@pytest.fixture
async def three_partners(
    db: DB, dynamo_config: Config, make_tables: MakeTables, moto_only: None
) -> AsyncIterator[MultiAccountDB]:
    await make_tables(ReconciliationReport, Merchant)
    async for multi in partner_tables(db, dynamo_config, [FAST, BROKEN, SLOW], Transaction):
        for p in (FAST, BROKEN, SLOW):
            pdb = await multi.partner(p.partner_id)
            await pdb.put(entry("pay_1", 1, LedgerKind.AUTHORIZATION, 1250, f"{p.partner_id}-r1"))
            await pdb.put(entry("pay_1", 2, LedgerKind.CAPTURE, 1250, f"{p.partner_id}-r2"))
            await pdb.put(entry("pay_2", 1, LedgerKind.AUTHORIZATION, 700, f"{p.partner_id}-r4"))
        yield multi


@pytest.fixture
def reconcile_runtime(
    dynamo_config: Config, three_partners: MultiAccountDB
) -> Iterator[ScriptedSettlements]:
    settlements = ScriptedSettlements(
        {
            p.partner_id: [
                line(f"{p.partner_id}-r1", "authorization", 1250),  # matches
                line(f"{p.partner_id}-r2", "capture", 1000),  # amount mismatch
                line(f"{p.partner_id}-r3", "refund", 300),  # missing from our ledger
            ]  # r4 (authorization 700) is extra: not in the report
            for p in (FAST, BROKEN, SLOW)
        },
        failing={"broken"},
        delay={"slow": 60.0},
    )
    install(handler_settings(dynamo_config, (FAST, BROKEN, SLOW)), FakeGateway(), settlements)
    yield settlements
    reset()
    configure()


def test_reconcile_reports_each_partner_and_a_rerun_finishes_the_slow_one(
    reconcile_runtime: ScriptedSettlements,
) -> None:
    event = load_event("reconcile_scheduled", day=TODAY.isoformat())
    first = invoke(reconcile.handler, event, timeout=6.0)  # the slow partner needs 60 s

    statuses = {pid: r["status"] for pid, r in first["partners"].items()}
    assert statuses == {"fast": "done", "broken": "failed", "slow": "not_done"}
    assert first["complete"] is False
    found = {(d["kind"], d["reference"]) for d in first["partners"]["fast"]["discrepancies"]}
    assert found == {
        ("amount_mismatch", "fast-r2"),
        ("missing", "fast-r3"),
        ("extra", "fast-r4"),
    }
    assert first["cost"]["calls"] > 0

    reconcile_runtime.delay.clear()
    reconcile_runtime.failing.clear()
    second = invoke(reconcile.handler, event, timeout=10.0)

    statuses = {pid: r["status"] for pid, r in second["partners"].items()}
    assert statuses == {"fast": "already_done", "broken": "done", "slow": "done"}
    assert second["complete"] is True
    assert second["partners"]["fast"]["discrepancies"] == first["partners"]["fast"]["discrepancies"]
    assert reconcile_runtime.calls == Counter({"fast": 1, "broken": 2, "slow": 2})


@pytest.fixture
async def partner_merchant(
    payment_tables: DB, dynamo_config: Config, moto_only: None
) -> AsyncIterator[MultiAccountDB]:
    await payment_tables.put(Merchant(merchant_id="m-globex", name="Globex", partner_id="globex"))
    async for multi in partner_tables(payment_tables, dynamo_config, [GLOBEX], *PROCESSOR_MODELS):
        yield multi


def batch_event() -> dict[str, Any]:
    event = load_event("settle_batch")
    for item in event["items"]:
        item["currency"] = "USD"
        if item["merchant_id"] == "m-own":
            item["merchant_id"] = "m-unknown"
    return event


def test_a_settle_batch_rerun_charges_nothing_twice_and_lookup_finds_each_account(
    dynamo_config: Config, partner_merchant: MultiAccountDB
) -> None:
    gateway = FakeGateway()
    install(handler_settings(dynamo_config, (GLOBEX,)), gateway)
    try:
        first = invoke(settle.handler, batch_event())
        again = invoke(settle.handler, batch_event())

        outcomes = {i["item_id"]: (i["status"], i.get("partner_id")) for i in first["items"]}
        assert outcomes == {
            "1": ("authorized", None),
            "2": ("authorized", "globex"),
            "3": ("rejected", None),
            "4": ("rejected", None),
        }
        assert [i["status"] for i in again["items"]] == [
            "replayed",
            "replayed",
            "rejected",
            "rejected",
        ]
        assert gateway.total_charges == 2
        assert first["items"][3]["field"] == "amount"
        payment_ids = [i["payment_id"] for i in first["items"][:2]]
        assert [i["payment_id"] for i in again["items"][:2]] == payment_ids

        found = invoke(lookup.handler, load_event("lookup_payment", payment_id=payment_ids[1]))
        assert list(found["payments"]) == ["globex"] and found["errors"] == {}
        customer = invoke(lookup.handler, load_event("lookup_customer"))
        assert sorted(customer["payments"]) == ["base"]  # item 2 was for customer c-2
        assert customer["payments"]["base"][0]["payment_id"] == payment_ids[0]
    finally:
        reset()
        configure()
