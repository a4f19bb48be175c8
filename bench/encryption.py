"""Field encryption: client CPU per put/get of a 20-attribute item with 3 Encrypted fields
against the same item without, and KMS calls per 1,000 reads with the data-key cache.

Runs in a child process against moto's server (DynamoDB and KMS) in *another* process, so only
the client's CPU is counted (``time.process_time()``). Plain and encrypted puts/gets alternate
in rounds within the same process; each figure is the median over rounds, reported with its
ratio to the plain operation of the same run. Target: ≤ 1.5x with a warm cache.

Run ``python -m bench encryption`` (or ``python -m bench.encryption``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from bench._servers import moto_process, run_child

__all__ = ["run"]

_SCRIPT = """\
import asyncio, json, statistics, sys, time
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
        credentials=Credentials("testing", "testing"), table_prefix=f"{TRANSPORT}-",
    )
    from asyncdynamo import create_transport

    kms = create_transport(config, service="kms")
    key = (await kms.call("CreateKey", {}))["KeyMetadata"]["Arn"]
    await kms.aclose()
    config = replace(config, kms_key_id=key)
    assert len(Plain.model_fields) == len(Sealed.model_fields) == 20
    async with DB(config) as db:
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
        await db.batch_write(puts=[Sealed(payment_id=f"r{i}") for i in range(100)])
    async with DB(config) as reader:  # a new container: cold key cache
        calls = kms_counter(reader)
        for i in range(READS):
            await reader.get(Sealed, f"r{i % 100}", required=True)
        cold = len(calls) * 1000 / READS
        calls.clear()
        for i in range(READS):
            await reader.get(Sealed, f"r{i % 100}", required=True)
        warm = len(calls) * 1000 / READS
    medians = {case: statistics.median(values) for case, values in cpu.items()}
    print(json.dumps({"cpu": medians, "kms_cold": cold, "kms_warm": warm}))

asyncio.run(main())
"""


def run(quick: bool = False) -> list[dict[str, object]]:
    """Client CPU per put/get, plain vs 3 Encrypted fields, and KMS calls per 1,000 reads."""
    ops, rounds, reads = (100, 3, 200) if quick else (300, 5, 1000)
    results: list[dict[str, object]] = []
    with moto_process() as url:
        for transport in ("lean", "aiobotocore"):
            values = run_child(_SCRIPT, [url, str(ops), str(rounds), str(reads), transport])
            cpu: dict[str, float] = values["cpu"]
            for op in ("put", "get"):
                base = cpu[f"{op} plain"]
                for label in ("plain", "3 encrypted"):
                    value = cpu[f"{op} {label}"]
                    results.append(
                        {
                            "bench": "encryption",
                            "case": f"{transport}: {op} 20 attributes, {label}",
                            "value": round(value, 1),
                            "unit": "us CPU/op",
                            "ratio": round(value / base, 3),
                        }
                    )
            for label, key in (("cold cache", "kms_cold"), ("warm cache", "kms_warm")):
                results.append(
                    {
                        "bench": "encryption",
                        "case": f"{transport}: KMS calls per 1,000 reads, {label}",
                        "value": values[key],
                        "unit": "calls",
                    }
                )
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Print the results as JSON."""
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    print(json.dumps(run(quick=quick), indent=2))


if __name__ == "__main__":
    main()
