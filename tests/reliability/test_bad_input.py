"""Bad input fails with a clear, typed error before any request is sent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from asyncdynamo import (
    ExpressionError,
    InvalidKeyError,
    ItemTooLargeError,
    SerializationError,
    Update,
    UsageError,
    attr,
)
from tests.models import Account, Note, Order
from tests.reliability.rejects import Case, assert_rejected_before_sending


def _order(**changes: Any) -> Order:
    values: dict[str, Any] = {
        "customer_id": "c",
        "order_id": "o",
        "status": "new",
        "placed_at": datetime(2026, 1, 1).astimezone(),
        "total": Decimal(1),
    }
    values.update(changes)
    return Order.model_validate(values)


CASES: dict[str, Case] = {
    "empty partition key": (
        lambda db: db.put(Note(note_id="")),
        InvalidKeyError,
        "empty",
    ),
    "missing sort key": (lambda db: db.get(Order, "c"), InvalidKeyError, "sort key"),
    "wrong key type": (lambda db: db.get(Note, 42), InvalidKeyError, "type S"),
    "item over 400 KB": (
        lambda db: db.put(Note(note_id="n", text="x" * 410_000)),
        ItemTooLargeError,
        "400 KB",
    ),
    "NaN number in an update": (
        lambda db: db.update(Note, "n", changes=Update().set("count", float("nan"))),
        ExpressionError,
        "finite",
    ),
    "unknown field in condition": (
        lambda db: db.delete(Note, "n", condition=attr("nope") == 1),
        ExpressionError,
        "no field 'nope'",
    ),
    "number field compared with a string": (
        lambda db: db.delete(Note, "n", condition=attr("count") == "one"),
        ExpressionError,
        "encodes as S",
    ),
    "update of a key": (
        lambda db: db.update(Note, "n", changes=Update().set("note_id", "m")),
        ExpressionError,
        "note_id",
    ),
    "overlapping update paths": (
        lambda db: db.update(
            Order, "c", "o", changes=Update().set("lines", []).set("lines[0].sku", "x")
        ),
        ExpressionError,
        "overlapping",
    ),
    "empty update": (
        lambda db: db.update(Note, "n", changes=Update()),
        ExpressionError,
        "at least one action",
    ),
    "expected version on an unversioned model": (
        lambda db: db.delete(Note, "n", expected_version=3),
        UsageError,
        "no Version field",
    ),
    "versioned update by key without a version": (
        lambda db: db.update(Account, "a", changes=Update().set("owner", "x")),
        UsageError,
        "expected_version",
    ),
    "versioned delete by key without a version": (
        lambda db: db.delete(Account, "a"),
        UsageError,
        "skip_version_check",
    ),
    "instance and key together": (
        lambda db: db.delete(Note(note_id="n"), "n"),
        UsageError,
        "either",
    ),
    "IN with too many values": (
        lambda db: db.delete(Note, "n", condition=attr("count").is_in(range(101))),
        ExpressionError,
        "at most 100",
    ),
    "naive TTL datetime": (
        lambda db: db.put(Account(account_id="a", owner="o", expires_at=datetime(2030, 1, 1))),
        SerializationError,
        "timezone",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
async def test_bad_input_is_rejected_before_sending(case: str) -> None:
    await assert_rejected_before_sending(CASES[case])
