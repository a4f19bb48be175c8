"""Creating, ensuring, describing and deleting tables from models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import pytest

from asyncdynamo import (
    DB,
    Attr,
    ConfigurationError,
    GlobalIndex,
    Model,
    PartitionKey,
    ResourceNotFoundError,
    SortKey,
    StreamView,
)
from tests.models import Account, Order

MakeTables = Callable[..., Awaitable[list[str]]]


async def test_create_builds_keys_indexes_and_ttl(db: DB, make_tables: MakeTables) -> None:
    names = await make_tables(Order, Account)
    assert names == [db.table_name(Order), db.table_name(Account)]
    table = await db.schema.describe(Order)
    assert table["TableStatus"] == "ACTIVE"
    keys = {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]}
    assert keys == {"customer_id": "HASH", "order_id": "RANGE"}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_status"]
    assert [i["IndexName"] for i in table["LocalSecondaryIndexes"]] == ["by_placed"]
    ttl = await db.client.call("DescribeTimeToLive", {"TableName": db.table_name(Account)})
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


async def test_create_with_stream(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Account, stream=StreamView.NEW_AND_OLD_IMAGES)
    table = await db.schema.describe(Account)
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


async def test_ensure_creates_missing_tables_then_is_idempotent(db: DB) -> None:
    try:
        first = await db.schema.ensure(Account)
        assert first.created_tables == [db.table_name(Account)]
        second = await db.schema.ensure(Account)
        assert second.created_tables == [] and second.in_sync
    finally:
        await db.schema.delete(Account)


class NarrowOrder(Model):
    """The same table as WideOrder, without the global index."""

    __table__ = "evolving"
    pk: Annotated[str, PartitionKey]
    sk: Annotated[str, SortKey]


class WideOrder(Model):
    __table__ = "evolving"
    pk: Annotated[str, PartitionKey]
    sk: Annotated[str, SortKey]
    state: Annotated[str, GlobalIndex("by_state")]


class ConflictingOrder(Model):
    __table__ = "evolving"
    pk: Annotated[str, PartitionKey]
    other: Annotated[int, SortKey, Attr("sk")]


async def test_ensure_adds_missing_global_indexes(db: DB, make_tables: MakeTables) -> None:
    await make_tables(NarrowOrder)
    report = await db.schema.ensure(WideOrder)
    assert report.created_indexes == [f"{db.table_name(WideOrder)}.by_state"]
    table = await db.schema.describe(WideOrder)
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["by_state"]


async def test_ensure_reports_drift_it_cannot_fix(db: DB, make_tables: MakeTables) -> None:
    await make_tables(WideOrder)
    report = await db.schema.ensure(ConflictingOrder)
    assert not report.in_sync
    assert any("sk is S, model says N" in line for line in report.drift)
    assert any("by_state exists but no model declares it" in line for line in report.drift)


async def test_models_sharing_a_table_must_agree_on_keys(db: DB) -> None:
    with pytest.raises(ConfigurationError, match="different keys"):
        db.schema.definitions([WideOrder, ConflictingOrder])


async def test_delete_removes_the_table(db: DB) -> None:
    await db.schema.create(Account)
    await db.schema.delete(Account)
    with pytest.raises(ResourceNotFoundError):
        await db.schema.describe(Account)


async def test_table_prefix_applies_to_every_model(db: DB) -> None:
    assert db.table_name(Account) == f"{db.config.table_prefix}accounts"
