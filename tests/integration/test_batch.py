"""Batches against the database, with a proxy transport that holds items back as unprocessed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from asyncdynamo import DB, Config, Key, Transport, UnprocessedItemsError, create_transport
from tests.fakes import FAST_RETRY
from tests.models import Note

MakeTables = Callable[..., Awaitable[list[str]]]


class HoldingBack:
    """Forwards calls to a real transport, but keeps the last ``hold`` entries of each batch
    request (``times`` times) and reports them as unprocessed, as a throttled table would."""

    def __init__(self, inner: Transport, hold: int, times: int) -> None:
        self.inner = inner
        self.hold = hold
        self.times = times

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if operation not in ("BatchWriteItem", "BatchGetItem") or self.times == 0:
            return await self.inner.call(operation, params)
        self.times -= 1
        ((table, entries),) = params["RequestItems"].items()
        if operation == "BatchWriteItem":
            sent, held = entries[: -self.hold], entries[-self.hold :]
            response = (
                await self.inner.call(operation, {"RequestItems": {table: sent}}) if sent else {}
            )
            response["UnprocessedItems"] = {table: held}
            return response
        keys = entries["Keys"]
        sent_keys, held_keys = keys[: -self.hold], keys[-self.hold :]
        response = (
            await self.inner.call(
                operation, {"RequestItems": {table: {**entries, "Keys": sent_keys}}}
            )
            if sent_keys
            else {"Responses": {table: []}}
        )
        response["UnprocessedKeys"] = {table: {**entries, "Keys": held_keys}}
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def holding_db(dynamo_config: Config) -> AsyncIterator[Callable[[int, int], DB]]:
    """Builds DBs on the test's tables whose batches get ``hold`` entries held back ``times``."""
    opened: list[DB] = []

    def build(hold: int, times: int) -> DB:
        transport = HoldingBack(create_transport(dynamo_config), hold, times)
        database = DB(
            Config(**{**_fields(dynamo_config), "retry": FAST_RETRY}), transport=transport
        )
        opened.append(database)
        return database

    yield build
    for database in opened:
        await database.aclose()


def _fields(config: Config) -> dict[str, Any]:
    return {name: getattr(config, name) for name in Config.__dataclass_fields__}


async def test_batch_write_then_batch_get_round_trip(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Note)
    notes = [Note(note_id=f"n{i}", count=i) for i in range(30)]
    await db.batch_write(puts=notes)
    found = await db.batch_get(Note, [f"n{i}" for i in range(30)] + ["missing"])
    assert found == notes


async def test_batch_write_deletes(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Note)
    await db.batch_write(puts=[Note(note_id="a"), Note(note_id="b")])
    await db.batch_write(deletes=[Key(Note, "a"), Note(note_id="b")])
    assert await db.batch_get(Note, ["a", "b"]) == []


async def test_held_back_writes_are_retried_and_none_is_lost(
    make_tables: MakeTables, holding_db: Callable[[int, int], DB]
) -> None:
    await make_tables(Note)
    db = holding_db(3, 2)
    await db.batch_write(puts=[Note(note_id=f"n{i}") for i in range(10)])
    assert len(await db.scan(Note).all()) == 10


async def test_writes_held_back_every_time_are_raised_exactly(
    make_tables: MakeTables, holding_db: Callable[[int, int], DB]
) -> None:
    await make_tables(Note)
    db = holding_db(2, 100)
    with pytest.raises(UnprocessedItemsError) as caught:
        await db.batch_write(puts=[Note(note_id=f"n{i}") for i in range(5)])
    ((table, left),) = caught.value.unprocessed.items()
    assert table.endswith("notes")
    assert [w["PutRequest"]["Item"]["note_id"]["S"] for w in left] == ["n3", "n4"]
    assert caught.value.processed_count == 3
    stored = sorted(n.note_id for n in await db.scan(Note).all())
    assert stored == ["n0", "n1", "n2"]


async def test_held_back_keys_are_retried_and_found(
    db: DB, make_tables: MakeTables, holding_db: Callable[[int, int], DB]
) -> None:
    await make_tables(Note)
    await db.batch_write(puts=[Note(note_id=f"n{i}") for i in range(6)])
    found = await holding_db(4, 2).batch_get(Note, [f"n{i}" for i in range(6)])
    assert [n.note_id for n in found] == [f"n{i}" for i in range(6)]


async def test_keys_held_back_every_time_are_raised_exactly(
    db: DB, make_tables: MakeTables, holding_db: Callable[[int, int], DB]
) -> None:
    await make_tables(Note)
    await db.batch_write(puts=[Note(note_id=f"n{i}") for i in range(3)])
    with pytest.raises(UnprocessedItemsError) as caught:
        await holding_db(1, 100).batch_get(Note, ["n0", "n1", "n2"])
    ((_, left),) = caught.value.unprocessed.items()
    assert left == [{"note_id": {"S": "n2"}}]
