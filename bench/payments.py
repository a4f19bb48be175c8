"""Payment processing: latency and CPU per payment, against the run's moto server.

Each payment is ``Processor.process_payment`` with a fresh idempotency key: a conditional
PutItem claiming the key, the (fake, in-process) card processor, an UpdateItem recording the
phase, and one TransactWriteItems with the payment, its ledger entry, its audit record and the
key's completion. The merchant is cached after the first payment.

Per transport and concurrency (1 and 32 payments in flight):

* p50 / p99: wall time of one ``process_payment`` call, in ms;
* client CPU: this process's CPU time (user + system) per payment; everything in the process
  counts (event loop, codec, signing, HTTP, pydantic, the fake gateway);
* moto CPU: the moto server process's CPU time per payment, for scale: on 2 shared cores,
  moto's own cost dominates the latency measured here;
* throughput: payments per second of wall time.

There is no other payments implementation to compare with, so no group has a baseline.
moto's ``TransactWriteItems`` deep-copies every table it names, so its cost grows with the
tables: payments run in batches and the tables are emptied between batches (never while timed).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bench._core import Chart, ChartKind, Measurement, Step, SuiteContext, SuiteResult, register

__all__ = ["Sample", "payment_result", "run"]

REGION = "us-east-1"
MERCHANT = "m-bench"
BATCH = 96  # payments between two emptyings of the tables
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class Sample:
    """One transport at one concurrency."""

    latencies_ms: tuple[float, ...]
    client_cpu_ms: float  # per payment
    moto_cpu_ms: float  # per payment
    wall_s: float  # timed wall time, all batches


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def payment_result(samples: Mapping[tuple[str, int], Sample]) -> SuiteResult:
    """Measurements and charts from ``{(transport, concurrency): Sample}`` (pure: no servers)."""
    rows: list[Measurement] = []
    for (transport, concurrency), sample in samples.items():
        case = f"{transport}, concurrency {concurrency}"
        values = sample.latencies_ms
        count = f"{len(values)} payments"
        rows += [
            Measurement(
                "p50 latency per payment", case, statistics.median(values), "ms", note=count
            ),
            Measurement("p99 latency per payment", case, _percentile(values, 0.99), "ms"),
            Measurement("client CPU per payment", case, sample.client_cpu_ms, "ms"),
            Measurement(
                "moto's CPU per payment (the server, for scale)", case, sample.moto_cpu_ms, "ms"
            ),
            Measurement("throughput", case, len(values) / sample.wall_s, "payments/s"),
        ]
    notes = [
        "no baseline: there is no other payments implementation to compare with; moto's CPU "
        "per payment gives the scale of what the latency contains",
    ]
    chart = Chart(
        name="payments_latency",
        title="process_payment latency by transport and concurrency (ms)",
        kind=ChartKind.DISTRIBUTION,
        unit="ms",
        samples={f"{t}, c={c}": s.latencies_ms for (t, c), s in samples.items()},
    )
    return SuiteResult(rows, notes, [chart])


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _moto_pid(url: str) -> int | None:
    """The process of the moto server on ``url``'s port (found by its command line)."""
    port = url.rsplit(":", 1)[1]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                argv = handle.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "moto.server" in argv and port in argv:
            return int(pid)
    return None


async def _measure(
    url: str, moto_pid: int | None, transport: str, concurrency: int, payments: int, step: Step
) -> Sample:
    from asyncdynamo import DB, Config, Credentials, TransportKind
    from payments import (
        PROCESSOR_MODELS,
        CardDetails,
        FakeGateway,
        Merchant,
        Money,
        PaymentRequest,
        Processor,
    )

    config = Config(
        region=REGION,
        endpoint_url=url,
        credentials=Credentials("testing", "testing"),
        transport=TransportKind(transport),
        table_prefix=f"bench-payments-{transport}-{concurrency}-",
        max_pool_connections=max(concurrency, 1),
    )
    card = CardDetails("4242424242424242", exp_month=12, exp_year=2030, cvc="123")
    request = PaymentRequest(MERCHANT, Money(1250, "USD"), card, customer_id="c-1")
    written = [m for m in PROCESSOR_MODELS if m is not Merchant]
    latencies: list[float] = []
    cpu = moto = wall = 0.0
    async with DB(config) as db:
        await db.schema.delete(*PROCESSOR_MODELS)
        await db.schema.create(*PROCESSOR_MODELS)
        await db.put(Merchant(merchant_id=MERCHANT, name="Bench"))
        processor = Processor(db, gateway=FakeGateway())
        for _ in range(5):  # warm up: connections, merchant cache, first-use imports
            await processor.process_payment(request, idempotency_key=uuid.uuid4().hex)
        left = payments
        while left:
            batch, left = min(BATCH, left), left - min(BATCH, left)
            await db.schema.delete(*written)
            await db.schema.create(*written)
            queue = iter(range(batch))

            async def worker(queue: Iterator[int]) -> None:
                for _ in queue:
                    key = uuid.uuid4().hex
                    started = time.perf_counter()
                    await processor.process_payment(request, idempotency_key=key)
                    latencies.append((time.perf_counter() - started) * 1000)
                    step()

            cpu_before = time.process_time()
            moto_before = _cpu_seconds(moto_pid) if moto_pid else 0.0
            started = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for _ in range(concurrency):
                    group.create_task(worker(queue))
            wall += time.perf_counter() - started
            cpu += time.process_time() - cpu_before
            moto += (_cpu_seconds(moto_pid) - moto_before) if moto_pid else 0.0
        await db.schema.delete(*PROCESSOR_MODELS)
    return Sample(tuple(latencies), cpu * 1000 / payments, moto * 1000 / payments, wall)


def run(ctx: SuiteContext) -> SuiteResult:
    """``process_payment`` at concurrency 1 and 32 on both transports."""
    url = ctx.moto()
    pid = _moto_pid(url)
    counts = {1: 30, 32: 64} if ctx.quick else {1: 150, 32: 384}
    if ctx.full:
        counts = {1: 400, 32: 960}
    samples: dict[tuple[str, int], Sample] = {}
    for transport in ("lean", "aiobotocore"):
        for concurrency, count in counts.items():
            label = f"{transport}, concurrency {concurrency}: {count} payments"
            with ctx.case(label, count) as step:
                samples[(transport, concurrency)] = asyncio.run(
                    _measure(url, pid, transport, concurrency, count, step)
                )
    result = payment_result(samples)
    if pid is None:
        result.notes.append("moto's CPU: its process was not found, so it reads 0")
    return result


register(
    "payments",
    "process_payment latency and CPU, both transports, concurrency 1 and 32",
    run,
    order=70,
)
