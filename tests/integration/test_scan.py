"""Scans against the database: filters, parallel segments, counting, stopping early."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import aclosing

from asyncdynamo import DB, attr
from tests.models import Note

MakeTables = Callable[..., Awaitable[list[str]]]


async def seed_notes(db: DB, make_tables: MakeTables, count: int) -> None:
    await make_tables(Note)
    await db.batch_write(puts=[Note(note_id=f"n{i:02}", count=i) for i in range(count)])


async def test_scan_with_a_filter(db: DB, make_tables: MakeTables) -> None:
    await seed_notes(db, make_tables, 10)
    found = await db.scan(Note).filter(attr("count") >= 7).page_size(3).all()
    assert sorted(n.count for n in found) == [7, 8, 9]


async def test_parallel_scan_returns_every_item_exactly_once(
    db: DB, make_tables: MakeTables
) -> None:
    await seed_notes(db, make_tables, 20)
    found = await db.scan(Note).page_size(2).parallel(segments=4, concurrency=2).all()
    assert sorted(n.note_id for n in found) == [f"n{i:02}" for i in range(20)]


async def test_parallel_scan_can_stop_early(db: DB, make_tables: MakeTables) -> None:
    await seed_notes(db, make_tables, 12)
    scan = db.scan(Note).page_size(1).parallel(segments=3)
    taken = []
    async with scan:
        async for note in scan:
            taken.append(note)
            if len(taken) == 2:
                break
    assert len(taken) == 2


async def test_parallel_scan_limit_stops_the_stream(db: DB, make_tables: MakeTables) -> None:
    await seed_notes(db, make_tables, 12)
    async with aclosing(aiter(db.scan(Note).limit(5).parallel(segments=3))) as items:
        found = [note async for note in items]
    assert len(found) == 5


async def test_parallel_count_matches_a_plain_count(db: DB, make_tables: MakeTables) -> None:
    await seed_notes(db, make_tables, 9)
    scan = db.scan(Note).filter(attr("count") < 4)
    assert await scan.parallel(segments=3).count() == await scan.count() == 4


async def test_scan_pages_with_cursors(db: DB, make_tables: MakeTables) -> None:
    await seed_notes(db, make_tables, 5)
    scan = db.scan(Note)
    first = await scan.page(size=3)
    second = await scan.page(first.cursor, size=3)
    assert len(first) == 3 and len(second) == 2 and second.cursor is None
    ids = {n.note_id for n in first.items} | {n.note_id for n in second.items}
    assert len(ids) == 5
