"""The data every peer stack reads and writes: one 20-attribute item, in Python and wire form.

Imported by the peer child processes (``bench/_peer_drivers.py``) after their timed cold path,
so its own import never counts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["GET_KEY", "ITEM", "QUERY_ITEMS", "QUERY_PK", "TABLE", "wire"]

TABLE = "bench-peers"
QUERY_PK = "query#1"
QUERY_ITEMS = 10
GET_KEY = {"pk": "pay#1", "sk": "0"}

# 20 attributes: strings, integers, a boolean, a string set, a map and a list of maps. No floats,
# Decimals or bytes, so every peer stores and reads it without converting anything.
ITEM: dict[str, Any] = {
    "pk": "pay#1",
    "sk": "0",
    "merchant_id": "mer_7731",
    "customer_id": "cus_99812",
    "amount": 125050,
    "currency": "EUR",
    "fee": 375,
    "status": "captured",
    "method": "card",
    "card_last4": "4242",
    "created_at": "2026-11-25T03:44:54.123456+00:00",
    "updated_at": "2026-11-25T03:45:01.654321+00:00",
    "attempts": 2,
    "captured": True,
    "refunded_amount": 0,
    "tags": {"eu", "priority", "recurring"},
    "billing": {"line1": "1 Rue de Rivoli", "city": "Paris", "postcode": "75001", "country": "FR"},
    "lines": [
        {"sku": "sku-1", "quantity": 2, "unit_price": 2500},
        {"sku": "sku-2", "quantity": 1, "unit_price": 7505},
    ],
    "note": "first order",
    "version": 3,
}


def wire(value: Any) -> dict[str, Any]:
    """A Python value of :data:`ITEM` as a DynamoDB AttributeValue (the raw clients' input)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, set):
        return {"SS": sorted(value)}
    if isinstance(value, dict):
        return {"M": {key: wire(inner) for key, inner in value.items()}}
    if isinstance(value, list):
        return {"L": [wire(inner) for inner in value]}
    raise TypeError(f"no wire form for {type(value).__name__}")
