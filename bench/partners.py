"""Partner-account benchmarks: switching to a partner (cold and cached) and fan-out.

moto's server runs in its own process (``bench.transports.moto_process``), so its CPU does not
count against the client measured here; the client runs in this process.

* ``cold_switch``: first use of a partner: AssumeRole and the partner DB (``partner()``), and
  that plus the first GetItem through it (which builds the client). Median over partners, after
  one unmeasured partner per MultiAccountDB (imports, the STS client, the shared session).
  Compared with the naive way: a new aiobotocore session and clients per partner.
* ``warm_switch``: ``partner()`` for a partner already cached, plain and through a Lambda view.
* ``fan_out``: 20 partners, each a GetItem plus a controlled sleep of 10..200 ms: the wall
  time against the slowest partner and the sum of all of them.

Run ``python -m bench.partners [--quick]`` for a table.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Sequence
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
from bench._report import print_table
from bench.transports import moto_process

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


def _row(case: str, value: float, unit: str, ratio: float) -> dict[str, object]:
    return {
        "bench": "partners",
        "case": case,
        "value": round(value, 3),
        "unit": unit,
        "ratio": round(ratio, 3),
    }


async def _run(url: str, quick: bool) -> list[dict[str, object]]:
    partners = _partners(20)
    await _seed(url, partners)
    sample = partners[: 6 if quick else 20]
    naive = await _naive_switch(url, sample)
    results = [_row("cold switch, naive aiobotocore (baseline)", naive, "ms", 1.0)]
    for transport in (TransportKind.LEAN, TransportKind.AIOBOTOCORE):
        switch, with_get = await _cold_switch(url, transport, sample)
        results.append(_row(f"cold switch, {transport}: partner()", switch, "ms", switch / naive))
        results.append(
            _row(f"cold switch, {transport}: + first GetItem", with_get, "ms", with_get / naive)
        )
    plain, view = await _warm_switch(url, partners, 2_000 if quick else 20_000)
    results.append(_row("warm switch: partner()", plain, "us", plain / (naive * 1000)))
    results.append(_row("warm switch: Lambda view partner()", view, "us", view / (naive * 1000)))
    fan = await _fan_out(url, partners)
    results.append(_row("fan-out 20: slowest partner", fan["slowest"], "ms", 1.0))
    results.append(
        _row("fan-out 20: sum of partners", fan["sum"], "ms", fan["sum"] / fan["slowest"])
    )
    results.append(_row("fan-out 20: wall", fan["wall"], "ms", fan["wall"] / fan["slowest"]))
    return results


def run(quick: bool = False) -> list[dict[str, object]]:
    """Run the partner benchmarks against a moto server in another process.

    Args:
        quick: fewer partners and calls (a smoke run).

    Returns:
        Dicts with ``bench``, ``case``, ``value``, ``unit`` and ``ratio``: switches to the naive
        per-partner aiobotocore setup from the same run; fan-out rows to the slowest partner.
    """
    with moto_process() as url:
        return asyncio.run(_run(url, quick))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry: print the results as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer partners and calls")
    options = parser.parse_args(argv)
    print_table(run(quick=options.quick))


if __name__ == "__main__":
    main()
