"""Partner-account benchmarks: switching to a partner (cold and cached) and fan-out.

moto's server (the run's shared one) runs in its own process, so its CPU does not count
against the client measured here; the client runs in this process.

* ``cold_switch``: first use of a partner: AssumeRole and the partner DB (``partner()``), and
  that plus the first GetItem through it (which builds the client). Median over partners, after
  one unmeasured partner per MultiAccountDB (imports, the STS client, the shared session).
  Compared with the naive way: a new aiobotocore session and clients per partner.
* ``warm_switch``: ``partner()`` for a partner already cached, plain and through a Lambda view.
* ``fan_out``: 20 partners, each a GetItem plus a controlled sleep of 10..200 ms: the wall
  time against the slowest partner (the sum of all of them is reported as a note).

Run ``python -m bench partners [--quick]``.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from typing import Annotated

from asyncdynamo import (
    DB,
    Config,
    Credentials,
    LambdaDB,
    Model,
    MultiAccountDB,
    PartitionKey,
    PartnerConfig,
    TransportKind,
)
from bench._core import Measurement, SuiteContext, SuiteResult, register

__all__ = ["run"]

REGION = "us-east-1"
BASE_CREDENTIALS = Credentials("testing", "testing")


class Balance(Model):
    """One row per partner account: what the partner owes the platform."""

    __table__ = "bench-balances"

    partner_id: Annotated[str, PartitionKey]
    amount: int = 0


@dataclass(frozen=True, slots=True)
class _Context:
    """A Lambda context with plenty of time left."""

    remaining_ms: int = 600_000
    aws_request_id: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def _partners(count: int) -> list[PartnerConfig]:
    return [
        PartnerConfig(
            partner_id=f"partner-{n:02d}",
            role_arn=f"arn:aws:iam::{100000000000 + n}:role/payments-partner",
            external_id=f"external-{n:02d}",
            session_seconds=900,
        )
        for n in range(count)
    ]


def _config(url: str, transport: TransportKind) -> Config:
    return Config(
        region=REGION,
        endpoint_url=url,
        sts_endpoint_url=url,
        credentials=BASE_CREDENTIALS,
        transport=transport,
    )


async def _seed(url: str, partners: list[PartnerConfig]) -> None:
    """A Balance table with one item in every partner's account."""
    async with (
        DB(_config(url, TransportKind.LEAN)) as base,
        MultiAccountDB(base, partners) as mdb,
    ):
        for partner in partners:
            partner_db = await mdb.partner(partner.partner_id)
            await partner_db.schema.create(Balance)
            await partner_db.put(Balance(partner_id=partner.partner_id, amount=1250))


async def _cold_switch(
    url: str, transport: TransportKind, partners: list[PartnerConfig]
) -> tuple[float, float]:
    """Median ms of ``partner()`` and of ``partner()`` plus the first GetItem."""
    switch: list[float] = []
    first_get: list[float] = []
    async with DB(_config(url, transport)) as base, MultiAccountDB(base, partners) as mdb:
        for index, partner in enumerate(partners):
            start = time.perf_counter()
            partner_db = await mdb.partner(partner.partner_id)
            switched = time.perf_counter()
            item = await partner_db.get(Balance, partner.partner_id)
            done = time.perf_counter()
            assert item is not None
            if index:  # the first pays for imports, the STS client and the shared session
                switch.append((switched - start) * 1000)
                first_get.append((done - start) * 1000)
    return statistics.median(switch), statistics.median(first_get)


async def _naive_switch(url: str, partners: list[PartnerConfig]) -> float:
    """Median ms per partner with a new aiobotocore session and clients for each one."""
    from aiobotocore.session import get_session

    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    timings: list[float] = []
    for index, partner in enumerate(partners):
        start = time.perf_counter()
        async with get_session().create_client(
            "sts", region_name=REGION, endpoint_url=url, **keys
        ) as sts:
            assumed = await sts.assume_role(
                RoleArn=partner.role_arn,
                RoleSessionName=partner.role_session_name,
                ExternalId=partner.external_id,
                DurationSeconds=partner.session_seconds,
            )
        raw = assumed["Credentials"]
        async with get_session().create_client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=url,
            aws_access_key_id=raw["AccessKeyId"],
            aws_secret_access_key=raw["SecretAccessKey"],
            aws_session_token=raw["SessionToken"],
        ) as dynamodb:
            response = await dynamodb.get_item(
                TableName="bench-balances", Key={"partner_id": {"S": partner.partner_id}}
            )
        elapsed = (time.perf_counter() - start) * 1000
        assert "Item" in response
        if index:
            timings.append(elapsed)
    return statistics.median(timings)


async def _warm_switch(url: str, partners: list[PartnerConfig], calls: int) -> tuple[float, float]:
    """µs per cached ``partner()``: plain, and through a Lambda view."""
    async with DB(_config(url, TransportKind.LEAN)) as base, MultiAccountDB(base, partners) as mdb:
        ids = [p.partner_id for p in partners]
        for partner_id in ids:
            await mdb.partner(partner_id)
        view = mdb.with_lambda_timeout(_Context())
        results = []
        for target in (mdb, view):
            start = time.perf_counter()
            for n in range(calls):
                await target.partner(ids[n % len(ids)])
            results.append((time.perf_counter() - start) / calls * 1e6)
    return results[0], results[1]


async def _fan_out(url: str, partners: list[PartnerConfig]) -> dict[str, float]:
    """Wall, sum and slowest ms of one fan-out with a known sleep per partner."""
    delays = {p.partner_id: 0.01 * (n + 1) for n, p in enumerate(partners)}
    took: dict[str, float] = {}

    async def operation(partner_id: str, partner_db: LambdaDB) -> int:
        start = time.perf_counter()
        item = await partner_db.get(Balance, partner_id, required=True)
        await asyncio.sleep(delays[partner_id])  # the partner's own latency, controlled
        took[partner_id] = (time.perf_counter() - start) * 1000
        return item.amount

    async with DB(_config(url, TransportKind.LEAN)) as base, MultiAccountDB(base, partners) as mdb:
        for partner in partners:  # cached: measure the fan-out, not AssumeRole
            await mdb.partner(partner.partner_id)
        start = time.perf_counter()
        results = await mdb.fan_out(list(delays), operation, concurrency=len(partners))
        wall = (time.perf_counter() - start) * 1000
    assert all(result.ok for result in results.values())
    return {"wall": wall, "sum": sum(took.values()), "slowest": max(took.values())}


async def _run(url: str, ctx: SuiteContext) -> SuiteResult:
    partners = _partners(20)
    with ctx.case("seed 20 partner accounts", total=1) as step:
        await _seed(url, partners)
        step()
    sample = partners[: 6 if ctx.quick else 20]
    first_use = "first use of a partner: AssumeRole + client + first GetItem"
    rows: list[Measurement] = []
    with ctx.case("first use of a partner", total=3) as step:
        naive = await _naive_switch(url, sample)
        rows.append(
            Measurement(
                first_use, "naive: new aiobotocore session + clients", naive, "ms", baseline=True
            )
        )
        step()
        for transport in (TransportKind.LEAN, TransportKind.AIOBOTOCORE):
            switch, with_get = await _cold_switch(url, transport, sample)
            rows.append(
                Measurement(first_use, f"MultiAccountDB, {transport} transport", with_get, "ms")
            )
            rows.append(
                Measurement(
                    "of which partner() (AssumeRole + DB)", f"{transport} transport", switch, "ms"
                )
            )
            step()
    with ctx.case("cached partner()", total=1) as step:
        plain, view = await _warm_switch(url, partners, 2_000 if ctx.quick else 20_000)
        cached = "cached partner() lookup"
        rows.append(Measurement(cached, "MultiAccountDB.partner()", plain, "µs", baseline=True))
        rows.append(Measurement(cached, "through a Lambda deadline view", view, "µs"))
        step()
    with ctx.case("fan-out over 20 partners", total=1) as step:
        fan = await _fan_out(url, partners)
        step()
    fan_group = "fan-out over 20 partners (10..200 ms each)"
    rows.append(
        Measurement(fan_group, "slowest partner alone", fan["slowest"], "ms", baseline=True)
    )
    rows.append(Measurement(fan_group, "fan_out wall time", fan["wall"], "ms"))
    notes = [
        f"the 20 partners' own times add up to {fan['sum']:,.0f} ms: what one after another would take",
        "server: moto (STS AssumeRole with per-account isolation)",
    ]
    return SuiteResult(rows, notes)


def run(ctx: SuiteContext) -> SuiteResult:
    """Run the partner benchmarks against the run's moto server (STS needs moto)."""
    return asyncio.run(_run(ctx.moto(), ctx))


register("partners", "partner accounts: first use, cached use, fan-out", run, order=60)
