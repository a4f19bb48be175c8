"""Codec speed: asyncdynamo's hand-written codec against boto3's and aiodynamo's.

The item is a realistic 20-attribute payment record with a nested map, a list of maps, string
and number sets, bytes and Decimals. The codecs run interleaved in this one process, round after
round, and each figure is the median of its rounds.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from asyncdynamo import deserialize_item, serialize_item
from bench._core import Chart, ChartKind, Measurement, SuiteContext, SuiteResult, register


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


def _per_call_us(fn: Callable[[], object], number: int) -> float:
    return timeit.timeit(fn, number=number) / number * 1e6


def _codecs(item: dict[str, Any]) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    """``{stack: (serialize, deserialize)}`` for every codec installed; each callable does one
    20-attribute item. Peers that cannot encode the item are left out with a note."""
    wire = serialize_item(item)
    codecs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "asyncdynamo": (lambda: serialize_item(item), lambda: deserialize_item(wire))
    }
    try:
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    except ImportError:
        pass
    else:
        out, back = TypeSerializer(), TypeDeserializer()
        codecs["boto3"] = (
            lambda: {k: out.serialize(v) for k, v in item.items()},
            lambda: {k: back.deserialize(v) for k, v in wire.items()},
        )
    try:
        from aiodynamo.utils import dy2py, serialize_dict
    except ImportError:
        pass
    else:
        json_wire = serialize_dict(
            item
        )  # JSON-ready: bytes already base64 (ours: in the transport)
        codecs["aiodynamo"] = (lambda: serialize_dict(item), lambda: dy2py(json_wire, Decimal))
    return codecs


def run(ctx: SuiteContext) -> SuiteResult:
    """Serialize and deserialize the sample item with every codec, interleaved, medians."""
    item = sample_item()
    codecs = _codecs(item)
    notes = [
        "pydynox: not compared — its codec (Rust) refuses this item's number set "
        "(Decimal elements) and reads numbers as floats",
    ]
    if "aiodynamo" in codecs:
        notes.append(
            "aiodynamo's serializer also base64-encodes bytes (asyncdynamo does that in the transport)"
        )
    notes += [
        f"{peer}: skipped, not installed" for peer in ("boto3", "aiodynamo") if peer not in codecs
    ]
    for stack, (_, back) in codecs.items():
        if back() != item:  # every codec must give the item back before it is timed
            notes.append(f"{stack}: does not read the item back unchanged")
    number = 500 if ctx.quick else 2_000
    rounds = 5 if ctx.quick else 9
    timings: dict[tuple[str, str], list[float]] = {}
    with ctx.case("serialize/deserialize, interleaved", total=rounds) as step:
        for _ in range(rounds):
            for stack, (out, back) in codecs.items():
                timings.setdefault(("serialize", stack), []).append(_per_call_us(out, number))
                timings.setdefault(("deserialize", stack), []).append(_per_call_us(back, number))
            step()
    rows = [
        Measurement(
            group=f"{direction} one 20-attribute item",
            case=stack,
            value=statistics.median(values),
            unit="µs",
            baseline=stack == "asyncdynamo",
        )
        for (direction, stack), values in sorted(
            timings.items(), key=lambda kv: kv[0][0] != "serialize"
        )
    ]
    chart = Chart(
        name="codec",
        title="Codec: µs per 20-attribute item (lower is better)",
        kind=ChartKind.BARS,
        unit="µs per item",
        series={
            stack: {d: statistics.median(timings[(d, stack)]) for d in ("serialize", "deserialize")}
            for stack in codecs
        },
    )
    return SuiteResult(rows, notes, [chart])


register("codec", "the codec against boto3's and aiodynamo's, in this process", run, order=10)
