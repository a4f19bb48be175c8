"""Consumed capacity → request units → estimated cost.

On-demand tables bill per request unit: one write request unit per 1 KB written (two for a
transactional write), one read request unit per 4 KB read strongly consistently (half for an
eventually consistent read, two for a transactional one). The capacity DynamoDB reports with
``ReturnConsumedCapacity`` already counts those rules, so consumed capacity units are request
units one for one.

Default prices: DynamoDB on-demand, Standard table class, us-east-1, as published by AWS after
the price reduction of 2024-11-01: $0.625 per million write request units and $0.125 per
million read request units. Check https://aws.amazon.com/dynamodb/pricing/on-demand/ for your
region and pass your own :class:`Prices`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from asyncdynamo import DB, ConsumedCapacity

__all__ = ["Cost", "Prices", "track_cost"]

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class Prices:
    """Prices per million request units, in ``currency``; defaults: on-demand, us-east-1,
    effective 2024-11-01."""

    write_per_million: Decimal = Decimal("0.625")
    read_per_million: Decimal = Decimal("0.125")
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class Cost:
    """Request units used by some work and what they cost."""

    read_units: Decimal
    write_units: Decimal
    calls: int
    amount: Decimal
    currency: str

    @classmethod
    def of(cls, capacity: ConsumedCapacity, prices: Prices) -> Cost:
        """The cost of the capacity one tracker collected."""
        reads = Decimal(str(capacity.read_units))
        writes = Decimal(str(capacity.write_units))
        amount = (reads * prices.read_per_million + writes * prices.write_per_million) / _MILLION
        return cls(reads, writes, capacity.calls, amount, prices.currency)

    @classmethod
    def zero(cls, prices: Prices) -> Cost:
        return cls(Decimal(0), Decimal(0), 0, Decimal(0), prices.currency)

    def __add__(self, other: Cost) -> Cost:
        if other.currency != self.currency:
            raise ValueError("cannot add costs in different currencies")
        return Cost(
            self.read_units + other.read_units,
            self.write_units + other.write_units,
            self.calls + other.calls,
            self.amount + other.amount,
            self.currency,
        )


class CostMeter:
    """The live capacity of a ``track_cost`` block; read :attr:`cost` at any time."""

    def __init__(self, capacity: ConsumedCapacity, prices: Prices) -> None:
        self.capacity = capacity
        self.prices = prices

    @property
    def cost(self) -> Cost:
        return Cost.of(self.capacity, self.prices)


@contextmanager
def track_cost(db: DB, prices: Prices | None = None) -> Iterator[CostMeter]:
    """Accumulate the cost of every call made in this block (e.g. one Lambda invocation).

    ```python
    with track_cost(db) as meter:
        await processor.process_payment(request, idempotency_key="k1")
    print(meter.cost.write_units, meter.cost.amount)
    ```
    Blocks nest: each payment's own cost is on its result, the invocation's on the meter.
    """
    with db.track_capacity() as capacity:
        yield CostMeter(capacity, prices or Prices())
