"""Payment processing: latency and CPU per payment, against moto in another process.

Each payment is ``Processor.process_payment`` with a fresh idempotency key: a conditional
PutItem claiming the key, the (fake, in-process) card processor, an UpdateItem recording the
phase, and one TransactWriteItems with the payment, its ledger entry, its audit record and the
key's completion. The merchant is cached after the first payment.

Reported per transport and concurrency (1 and 32 payments in flight):

* ``p50`` / ``p99``: wall time of one ``process_payment`` call, in ms.
* ``client cpu``: this process's CPU time (user + system) per payment, in ms; everything in
  the process counts (event loop, codec, signing, HTTP, pydantic, the fake gateway).
* ``moto cpu``: the moto server process's CPU time per payment, for scale: on 2 shared
  cores, moto's own cost (tens of ms per payment) dominates the latency measured here.

Run ``python -m bench.payments [--quick]`` for a table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Sequence

from asyncdynamo import DB, Config, Credentials, TransportKind
from bench._report import print_table
from bench._servers import moto_server
from payments import (
    PROCESSOR_MODELS,
    CardDetails,
    FakeGateway,
    Merchant,
    Money,
    PaymentRequest,
    Processor,
)

__all__ = ["run"]

REGION = "us-east-1"
MERCHANT = "m-bench"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _request() -> PaymentRequest:
    card = CardDetails("4242424242424242", exp_month=12, exp_year=2030, cvc="123")
    return PaymentRequest(MERCHANT, Money(1250, "USD"), card, customer_id="c-1")


async def _measure(
    url: str, moto_pid: int, transport: TransportKind, concurrency: int, payments: int
) -> list[dict[str, object]]:
    config = Config(
        region=REGION,
        endpoint_url=url,
        credentials=Credentials("testing", "testing"),
        transport=transport,
        table_prefix=f"bench-{transport}-{concurrency}-",
        max_pool_connections=max(concurrency, 1),
    )
    async with DB(config) as db:
        await db.schema.create(*PROCESSOR_MODELS)
        await db.put(Merchant(merchant_id=MERCHANT, name="Bench"))
        processor = Processor(db, gateway=FakeGateway())
        request = _request()
        for _ in range(5):  # warm up: connections, merchant cache, first-use imports
            await processor.process_payment(request, idempotency_key=uuid.uuid4().hex)
        latencies: list[float] = []
        queue = iter(range(payments))

        async def worker() -> None:
            for _ in queue:
                key = uuid.uuid4().hex
                started = time.perf_counter()
                await processor.process_payment(request, idempotency_key=key)
                latencies.append((time.perf_counter() - started) * 1000)

        cpu_before, moto_before = time.process_time(), _cpu_seconds(moto_pid)
        wall = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        wall = time.perf_counter() - wall
        client_ms = (time.process_time() - cpu_before) * 1000 / payments
        moto_ms = (_cpu_seconds(moto_pid) - moto_before) * 1000 / payments
        await db.schema.delete(*PROCESSOR_MODELS)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    case = f"{transport} c={concurrency}"
    return [
        {
            "bench": "payments",
            "case": f"{case} p50",
            "value": statistics.median(latencies),
            "unit": "ms",
        },
        {"bench": "payments", "case": f"{case} p99", "value": p99, "unit": "ms"},
        {"bench": "payments", "case": f"{case} client cpu", "value": client_ms, "unit": "ms/pay"},
        {"bench": "payments", "case": f"{case} moto cpu", "value": moto_ms, "unit": "ms/pay"},
        {
            "bench": "payments",
            "case": f"{case} throughput",
            "value": payments / wall,
            "unit": "pay/s",
        },
    ]


async def _run(url: str, moto_pid: int, quick: bool) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    for transport in (TransportKind.LEAN, TransportKind.AIOBOTOCORE):
        for concurrency, count in ((1, 40 if quick else 200), (32, 96 if quick else 640)):
            results += await _measure(url, moto_pid, transport, concurrency, count)
    return results


def run(quick: bool = False) -> list[dict[str, object]]:
    """Run the payment benchmarks against a moto server in another process.

    Returns:
        Dicts with ``bench``, ``case``, ``value`` and ``unit`` (no baseline ratio: there is no
        other payments implementation to compare with; moto's CPU gives the scale).
    """
    with moto_server() as (url, pid):
        return asyncio.run(_run(url, pid, quick))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry: print the results as a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer payments")
    options = parser.parse_args(argv)
    print_table(run(quick=options.quick))


if __name__ == "__main__":
    main()
