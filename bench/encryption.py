"""Field encryption: client CPU per put/get of a 20-attribute item with 3 ``Encrypted`` fields
against the same item in clear, and KMS calls over many reads with the data-key cache.

Runs in a child process per transport against the run's moto server (DynamoDB and KMS, in
*another* process), so only the client's CPU is counted (``time.process_time()``). Plain and
encrypted puts/gets alternate in rounds within the same process; each figure is the median over
rounds, and the clear item is the baseline of its operation's group (target: encrypted ≤ 1.5x
with a warm cache). KMS calls are counts, not times: a new ``DB`` (cold data-key cache) reads
100 items 1,000 times (200 with ``--quick``), then as many again (warm). The tables are deleted
at the end.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from bench._child import run_streaming
from bench._core import Chart, ChartKind, Measurement, SuiteContext, SuiteResult, register
from bench._servers import child_env

__all__ = ["encryption_result", "run"]

TRANSPORTS = ("lean", "aiobotocore")
LABELS = {"plain": "clear", "3 encrypted": "3 fields encrypted"}

_SCRIPT = """\
import asyncio, json, sys, time
from dataclasses import replace
from decimal import Decimal
from typing import Annotated

from asyncdynamo import DB, Config, Credentials, Encrypted, Model, PartitionKey, TransportKind

URL, OPS, ROUNDS, READS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
TRANSPORT = TransportKind(sys.argv[5])


class Fields(Model):
    payment_id: Annotated[str, PartitionKey]
    merchant_id: str = "mer_7731"
    customer_id: str = "cus_99812"
    amount: int = 125_050
    currency: str = "EUR"
    fee: Decimal = Decimal("3.7515")
    status: str = "captured"
    method: str = "card"
    card_last4: str = "4242"
    card_brand: str = "visa"
    created_at: str = "2026-11-25T03:44:54.123456+00:00"
    updated_at: str = "2026-11-25T03:45:01.654321+00:00"
    attempts: int = 2
    captured: bool = True
    refunded_amount: int = 0
    tags: set[str] = {"priority", "eu", "recurring"}
    billing: dict[str, str] = {"line1": "1 Rue de Rivoli", "city": "Paris", "country": "FR"}


class Plain(Fields):
    __table__ = "bench-plain"
    pan: str = "4111111111111111"
    holder: str = "Ada Lovelace"
    expiry: str = "12/29"


class Sealed(Fields):
    __table__ = "bench-sealed"
    pan: Annotated[str, Encrypted] = "4111111111111111"
    holder: Annotated[str, Encrypted] = "Ada Lovelace"
    expiry: Annotated[str, Encrypted] = "12/29"


def kms_counter(db):
    from asyncdynamo._encryption._hooks import _kms_client

    calls = []
    _kms_client(db).observers.append(lambda operation, *_: calls.append(operation))
    return calls


async def cpu_per_op(make):
    start = time.process_time()
    for i in range(OPS):
        await make(i)
    return (time.process_time() - start) / OPS * 1e6


async def main():
    config = Config(
        region="us-east-1", endpoint_url=URL, kms_endpoint_url=URL, transport=TRANSPORT,
        credentials=Credentials("testing", "testing"),
        table_prefix=f"bench-encryption-{TRANSPORT}-",
    )
    from asyncdynamo import create_transport

    kms = create_transport(config, service="kms")
    key = (await kms.call("CreateKey", {}))["KeyMetadata"]["Arn"]
    await kms.aclose()
    config = replace(config, kms_key_id=key)
    assert len(Plain.model_fields) == len(Sealed.model_fields) == 20
    async with DB(config) as db:
        await db.schema.delete(Plain, Sealed)
        await db.schema.create(Plain, Sealed)
        for model in (Plain, Sealed):  # warm-up: connections, validators, the data-key cache
            for i in range(20):
                await db.put(model(payment_id=f"w{i}"), overwrite=True)
                await db.get(model, f"w{i}")
        cpu = {"put plain": [], "put 3 encrypted": [], "get plain": [], "get 3 encrypted": []}
        for r in range(ROUNDS):
            for model, label in ((Plain, "plain"), (Sealed, "3 encrypted")):
                cpu[f"put {label}"].append(await cpu_per_op(
                    lambda i: db.put(model(payment_id=f"p{r}-{i}"), overwrite=True)))
                cpu[f"get {label}"].append(await cpu_per_op(
                    lambda i: db.get(model, f"p{r}-{i}")))
            print("tick", flush=True)
        await db.batch_write(puts=[Sealed(payment_id=f"r{i}") for i in range(100)])
    async with DB(config) as reader:  # a new container: cold key cache
        calls = kms_counter(reader)
        for i in range(READS):
            await reader.get(Sealed, f"r{i % 100}", required=True)
        cold = len(calls)
        print("tick", flush=True)
        calls.clear()
        for i in range(READS):
            await reader.get(Sealed, f"r{i % 100}", required=True)
        warm = len(calls)
    async with DB(config) as db:
        await db.schema.delete(Plain, Sealed)
    print(json.dumps({"cpu": cpu, "kms_cold": cold, "kms_warm": warm, "reads": READS}))

asyncio.run(main())
"""


def encryption_result(values: Mapping[str, Mapping[str, Any]]) -> SuiteResult:
    """Measurements and a chart from ``{transport: the child's JSON}`` (pure: no servers).

    The child's JSON: ``{"cpu": {"put plain": [µs per round], ...}, "kms_cold": calls,
    "kms_warm": calls, "reads": reads in each of the two KMS passes}``.
    """
    rows: list[Measurement] = []
    series: dict[str, dict[str, float]] = {}
    for transport, result in values.items():
        cpu: Mapping[str, Sequence[float]] = result["cpu"]
        for op in ("put", "get"):
            for label, case in LABELS.items():
                rounds = tuple(float(v) for v in cpu[f"{op} {label}"])
                median = statistics.median(rounds)
                series.setdefault(f"{transport}, {case}", {})[op] = median
                rows.append(
                    Measurement(
                        f"client CPU per {op} of a 20-attribute item, {transport}",
                        case,
                        median,
                        "µs",
                        baseline=label == "plain",
                        samples=rounds,
                    )
                )
        for key, case in (("kms_cold", "new DB (cold cache)"), ("kms_warm", "same DB (warm)")):
            rows.append(
                Measurement(
                    f"KMS calls over {int(result['reads']):,} reads of 100 encrypted items, "
                    f"{transport}",
                    case,
                    float(result[key]),
                    "calls",
                )
            )
    notes = [
        "each CPU group compares one transport's encrypted item with the same item in clear; "
        "transports are not compared here (see the peers and transports suites)",
        "KMS calls are counts (no baseline): with the data-key cache a new DB decrypts each "
        "data key once, however many reads follow; the same DB again makes none",
    ]
    chart = Chart(
        name="encryption_cpu",
        title="Client CPU per operation, clear vs 3 encrypted fields (µs, lower is better)",
        kind=ChartKind.BARS,
        unit="µs per operation",
        series=series,
    )
    return SuiteResult(rows, notes, [chart])


def run(ctx: SuiteContext) -> SuiteResult:
    """Client CPU per put/get, clear vs 3 Encrypted fields, and KMS calls over many reads."""
    ops, rounds, reads = (50, 3, 200) if ctx.quick else (200, 5, 1000)
    if ctx.full:
        ops, rounds = 300, 9
    url = ctx.moto()
    values: dict[str, dict[str, Any]] = {}
    for transport in TRANSPORTS:
        label = f"{transport}: {rounds} rounds of {ops} puts and gets, then {2 * reads} reads"
        with ctx.case(label, rounds + 2) as step:
            args = ["-c", _SCRIPT, url, str(ops), str(rounds), str(reads), transport]
            values[transport] = run_streaming(args, child_env(), step)
    return encryption_result(values)


register(
    "encryption",
    "Encrypted fields: client CPU against the item in clear, KMS calls with the key cache",
    run,
    order=75,
)
