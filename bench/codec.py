"""Codec speed: asyncdynamo's hand-written codec against boto3's TypeSerializer/Deserializer.

The item is a realistic 20-attribute payment record with a nested map, a list of maps, string
and number sets, bytes and Decimals. Ratios compare runs made in this same process.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from asyncdynamo import deserialize_item, serialize, serialize_item

Result = dict[str, object]


def sample_item() -> dict[str, Any]:
    """A 20-attribute item shaped like a stored payment."""
    return {
        "payment_id": "pay_01HZX3K9Q2W7M4N8R5T6Y1U0I",
        "merchant_id": "mer_7731",
        "customer_id": "cus_99812",
        "amount": 125_050,
        "currency": "EUR",
        "fee": Decimal("3.7515"),
        "status": "captured",
        "method": "card",
        "card_last4": "4242",
        "card_fingerprint": b"\x8f\x12\xa0\x55\x01\xfe\x33\x90\x10\x22\x31\x44",
        "created_at": "2026-11-25T03:44:54.123456+00:00",
        "updated_at": "2026-11-25T03:45:01.654321+00:00",
        "attempts": 2,
        "captured": True,
        "refunded_amount": 0,
        "tags": {"priority", "eu", "recurring"},
        "risk_scores": {Decimal("0.12"), Decimal("0.5"), 7},
        "billing": {
            "line1": "1 Rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
        },
        "lines": [
            {"sku": "sku-1", "quantity": 2, "unit_price": Decimal("25.00")},
            {"sku": "sku-2", "quantity": 1, "unit_price": Decimal("75.05")},
        ],
        "metadata": {"order": "ord_5512", "channel": "web", "note": None},
    }


def _per_call_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    timings = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(timings) / number * 1e6


def run(quick: bool = False) -> list[Result]:
    """Time serialize and deserialize of the sample item for both codecs."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    item = sample_item()
    boto_serializer = TypeSerializer()
    boto_deserializer = TypeDeserializer()
    wire = {k: serialize(v) for k, v in item.items()}
    assert len(wire) == 20
    number, repeat = (2_000, 5) if quick else (10_000, 7)

    def ours_out() -> object:
        return serialize_item(item)

    def boto_out() -> object:
        return {k: boto_serializer.serialize(v) for k, v in item.items()}

    def ours_in() -> object:
        return deserialize_item(wire)

    def boto_in() -> object:
        return {k: boto_deserializer.deserialize(v) for k, v in wire.items()}

    boto_ser = _per_call_us(boto_out, number, repeat)
    ours_ser = _per_call_us(ours_out, number, repeat)
    boto_de = _per_call_us(boto_in, number, repeat)
    ours_de = _per_call_us(ours_in, number, repeat)
    return [
        {
            "bench": "codec",
            "case": "serialize boto3 TypeSerializer",
            "value": boto_ser,
            "unit": "us/item",
            "ratio": 1.0,
        },
        {
            "bench": "codec",
            "case": "serialize asyncdynamo",
            "value": ours_ser,
            "unit": "us/item",
            "ratio": ours_ser / boto_ser,
            "speedup": boto_ser / ours_ser,
        },
        {
            "bench": "codec",
            "case": "deserialize boto3 TypeDeserializer",
            "value": boto_de,
            "unit": "us/item",
            "ratio": 1.0,
        },
        {
            "bench": "codec",
            "case": "deserialize asyncdynamo",
            "value": ours_de,
            "unit": "us/item",
            "ratio": ours_de / boto_de,
            "speedup": boto_de / ours_de,
        },
    ]


if __name__ == "__main__":
    from bench._report import print_table

    print_table(run())
