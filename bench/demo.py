"""A small end-to-end tour against an embedded moto server (no AWS account needed).

Run it with ``python -m bench demo`` (``python -m bench`` runs it before the benchmarks).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from asyncdynamo import (
    DB,
    TTL,
    CreatedAt,
    GlobalIndex,
    ItemAlreadyExistsError,
    KeyRole,
    Model,
    PartitionKey,
    TransportKind,
    Update,
    UpdatedAt,
    Version,
    VersionConflictError,
    attr,
)
from asyncdynamo.local import MotoServer, config_for


class Status(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    REFUNDED = "refunded"


class DemoPayment(Model):
    __table__ = "demo-payments"

    payment_id: Annotated[str, PartitionKey]
    customer_id: Annotated[str, GlobalIndex("by_customer")]
    created_at: Annotated[
        datetime | None, CreatedAt, GlobalIndex("by_customer", role=KeyRole.SORT)
    ] = None
    updated_at: Annotated[datetime | None, UpdatedAt] = None
    amount: int  # minor units
    currency: str
    status: Status = Status.PENDING
    expires_at: Annotated[datetime | None, TTL] = None
    version: Annotated[int, Version] = 0


def say(text: str) -> None:
    print(f"  {text}")


async def tour(db: DB) -> None:
    await db.schema.create(DemoPayment)
    say(f"created table {db.table_name(DemoPayment)!r} with a global index and TTL")

    payment = await db.put(
        DemoPayment(
            payment_id="pay_1",
            customer_id="cus_9",
            amount=12_50,
            currency="EUR",
            expires_at=datetime.now(UTC) + timedelta(days=30),
        )
    )
    say(f"put pay_1: version {payment.version}, created_at {payment.created_at:%H:%M:%S}")

    try:
        await db.put(DemoPayment(payment_id="pay_1", customer_id="x", amount=1, currency="EUR"))
    except ItemAlreadyExistsError:
        say("a second create of pay_1 is refused: ItemAlreadyExistsError")

    captured = await db.update(
        payment,
        changes=Update().set("status", Status.CAPTURED),
        condition=attr("status") == Status.PENDING,
    )
    say(f"captured pay_1 conditionally: version {captured.version}")

    try:
        await db.update(payment, changes=Update().set("status", Status.REFUNDED))
    except VersionConflictError as exc:
        say(
            f"a stale update is refused: expected v{exc.expected_version}, stored v{exc.actual_version}"
        )

    with db.track_capacity() as used:
        loaded = await db.get(DemoPayment, "pay_1", consistent=True, required=True)
    say(
        f"read back: {loaded.status.value}, {loaded.amount / 100:.2f} {loaded.currency}; "
        f"{used.read_units} read units"
    )

    removed = await db.delete(loaded)
    say(f"deleted pay_1 (it was {removed.status.value if removed else 'gone'})")


async def run_demo(transport: TransportKind = TransportKind.LEAN) -> None:
    """Start moto's server in this process, run the tour, stop the server."""
    print(f"demo: asyncdynamo against an embedded moto server ({transport} transport)")
    with MotoServer() as server:
        async with DB(config_for(server.endpoint, transport=transport)) as db:
            await tour(db)
    print("demo: done")


if __name__ == "__main__":
    asyncio.run(run_demo())
