"""Model instances to items and back, keys and client-side limits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import pytest

from asyncdynamo import (
    GlobalIndex,
    InvalidKeyError,
    ItemDecodeError,
    ItemTooLargeError,
    Model,
    PartitionKey,
    spec_of,
)
from asyncdynamo._item import MAX_ITEM_BYTES, from_item, item_size, key_from_values, to_item
from tests.models import Account, Line, Order, Tier

ACCOUNTS = spec_of(Account)
ORDERS = spec_of(Order)


def test_item_uses_attribute_names_and_round_trips() -> None:
    order = Order(
        customer_id="c1",
        order_id="o1",
        status="new",
        placed_at=datetime(2026, 1, 1, tzinfo=UTC),
        total=Decimal("10.25"),
        lines=[Line(sku="a", quantity=2, price=Decimal("5.125"))],
        blob=b"\x00",
    )
    item = to_item(ORDERS, order)
    assert item["amt"] == {"N": "10.25"}
    assert "total" not in item
    assert from_item(ORDERS, item) == order


def test_ttl_is_stored_as_epoch_seconds_and_read_back_as_datetime() -> None:
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    item = to_item(ACCOUNTS, Account(account_id="a", owner="o", expires_at=expires))
    assert item["expires_at"] == {"N": str(int(expires.timestamp()))}
    assert from_item(ACCOUNTS, item).expires_at == expires


def test_empty_sets_and_omit_empty_fields_are_left_out_and_restored() -> None:
    item = to_item(ACCOUNTS, Account(account_id="a", owner="o", tags=set(), nickname=None))
    assert "tags" not in item and "nickname" not in item
    restored = from_item(ACCOUNTS, item)
    assert restored.tags == set() and restored.nickname is None


def test_none_is_stored_as_null_unless_omit_empty() -> None:
    item = to_item(ORDERS, _order(note=None))
    assert item["note"] == {"NULL": True}


def test_enum_is_stored_by_value() -> None:
    item = to_item(ACCOUNTS, Account(account_id="a", owner="o", tier=Tier.GOLD))
    assert item["tier"] == {"S": "gold"}


def test_sparse_index_key_none_is_left_out() -> None:
    class Sparse(Model):
        __table__ = "sparse"
        key: Annotated[str, PartitionKey]
        flagged: Annotated[str | None, GlobalIndex("flagged_idx")] = None

    item = to_item(spec_of(Sparse), Sparse(key="k"))
    assert "flagged" not in item


def test_empty_key_values_are_rejected() -> None:
    with pytest.raises(InvalidKeyError, match="empty"):
        to_item(ACCOUNTS, Account(account_id="", owner="o"))
    with pytest.raises(InvalidKeyError, match="empty"):
        key_from_values(ACCOUNTS, "")


def test_wrong_key_types_are_rejected() -> None:
    with pytest.raises(InvalidKeyError, match="type S"):
        key_from_values(ACCOUNTS, 5)


def test_missing_and_extra_sort_keys_are_rejected() -> None:
    with pytest.raises(InvalidKeyError, match="sort key"):
        key_from_values(ORDERS, "c1")
    with pytest.raises(InvalidKeyError, match="no sort key"):
        key_from_values(ACCOUNTS, "a", "extra")


def test_items_over_400kb_are_rejected_before_sending() -> None:
    big = "x" * (MAX_ITEM_BYTES + 1)
    with pytest.raises(ItemTooLargeError) as caught:
        to_item(ACCOUNTS, Account(account_id="a", owner=big))
    assert caught.value.size > MAX_ITEM_BYTES


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"ab": {"S": "xyz"}}) == 5
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1


def _order(**changes: object) -> Order:
    values: dict[str, object] = {
        "customer_id": "c1",
        "order_id": "o1",
        "status": "new",
        "placed_at": datetime(2026, 1, 1, tzinfo=UTC),
        "total": Decimal(1),
    }
    values.update(changes)
    return Order.model_validate(values)


def test_a_stored_item_that_no_longer_fits_the_model_raises_item_decode_error() -> None:
    item = {"account_id": {"S": "a"}, "balance": {"S": "not a number"}}
    with pytest.raises(ItemDecodeError) as caught:
        from_item(ACCOUNTS, item)
    assert caught.value.model == "Account"
    assert caught.value.item == item
