"""Queries against the database: operators, index selection, pagination and cursors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from asyncdynamo import DB, AttributeType, Condition, CursorError, NoIndexForQueryError, attr
from tests.integration.query_models import Event
from tests.models import Order

MakeTables = Callable[..., Awaitable[list[str]]]
T0 = datetime(2024, 1, 1, tzinfo=UTC)


async def seed_events(db: DB, make_tables: MakeTables, count: int = 8) -> None:
    await make_tables(Event)
    await db.batch_write(
        puts=[
            Event(
                stream="s",
                seq=i,
                kind="even" if i % 2 == 0 else "odd",
                weight=i * 10,
                label=f"label-{i}",
                tags={f"t{i % 3}"},
                attrs={"colour": "red" if i < 4 else "blue"},
                parts=["p"] * i,
                note=None if i == 0 else f"note {i}",
            )
            for i in range(count)
        ]
    )


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (attr("seq") == 3, [3]),
        (attr("seq") < 2, [0, 1]),
        (attr("seq") <= 2, [0, 1, 2]),
        (attr("seq") > 5, [6, 7]),
        (attr("seq") >= 6, [6, 7]),
        (attr("seq").between(2, 4), [2, 3, 4]),
    ],
)
async def test_sort_key_operators(
    db: DB, make_tables: MakeTables, condition: Condition, expected: list[int]
) -> None:
    await seed_events(db, make_tables)
    found = await db.query(Event).where(attr("stream") == "s", condition).all()
    assert [e.seq for e in found] == expected


async def test_begins_with_on_a_string_sort_key(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Order)
    for order_id in ("a-1", "a-2", "b-1"):
        await db.put(
            Order(customer_id="c", order_id=order_id, status="new", placed_at=T0, total=Decimal(1))
        )
    found = (
        await db.query(Order)
        .where(attr("customer_id") == "c", attr("order_id").begins_with("a-"))
        .all()
    )
    assert [o.order_id for o in found] == ["a-1", "a-2"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (attr("label") != "label-1", [0, 2, 3]),
        (attr("weight").is_in([10, 30]), [1, 3]),
        (attr("label").begins_with("label-2"), [2]),
        (attr("tags").contains("t0"), [0, 3]),
        (attr("parts").size() >= 2, [2, 3]),
        (attr("note").exists(), [1, 2, 3]),
        (attr("note").not_exists(), [0]),
        (attr("note").is_type(AttributeType.STRING), [1, 2, 3]),
        (attr("attrs.colour") == "red", [0, 1, 2, 3]),
        (attr("parts[1]") == "p", [2, 3]),
        ((attr("weight") < 10) | (attr("weight") > 20), [0, 3]),
        ((attr("weight") > 0) & ~(attr("weight") == 20), [1, 3]),
    ],
)
async def test_filter_operators(
    db: DB, make_tables: MakeTables, condition: Condition, expected: list[int]
) -> None:
    await seed_events(db, make_tables, count=4)
    found = await db.query(Event).where(attr("stream") == "s").filter(condition).all()
    assert [e.seq for e in found] == expected


async def test_global_index_query_returns_projected_dicts(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables)
    found = await db.query(Event).where(attr("kind") == "odd").project("seq").all()
    assert sorted(d["seq"] for d in found) == [1, 3, 5, 7]


async def test_global_index_sort_condition_is_served_by_the_index(
    db: DB, make_tables: MakeTables
) -> None:
    await seed_events(db, make_tables)
    query = (
        db.query(Event).where(attr("kind") == "even", attr("weight") >= 40).project("seq", "weight")
    )
    assert query.explain().index == "by_kind_weight"
    assert [d["seq"] for d in await query.all()] == [4, 6]


async def test_local_index_query_orders_by_its_sort_key(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Order)
    for i, order_id in enumerate(("z", "y", "x")):
        await db.put(
            Order(
                customer_id="c",
                order_id=order_id,
                status="new",
                placed_at=T0 + timedelta(days=i),
                total=Decimal(i),
            )
        )
    query = db.query(Order).where(attr("customer_id") == "c", attr("placed_at") > T0)
    assert query.explain().index == "by_placed"
    assert [o.order_id for o in await query.all()] == ["y", "x"]


async def test_query_no_index_serves_fails_before_sending(db: DB) -> None:
    with pytest.raises(NoIndexForQueryError):
        await db.query(Event).where(attr("label") == "x").all()


async def test_descending_returns_the_highest_sort_keys_first(
    db: DB, make_tables: MakeTables
) -> None:
    await seed_events(db, make_tables, count=4)
    assert [
        e.seq for e in await db.query(Event).where(attr("stream") == "s").descending().all()
    ] == [3, 2, 1, 0]


async def test_pages_with_cursors_return_every_item_once(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=10)
    query = db.query(Event).where(attr("stream") == "s")
    seen: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await query.page(cursor, size=3)
        seen.extend(e.seq for e in page.items)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == list(range(10))
    assert pages >= 4


async def test_filtered_pages_are_filled(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=10)
    query = db.query(Event).where(attr("stream") == "s").filter(attr("kind") == "odd")
    first = await query.page(size=3)
    second = await query.page(first.cursor, size=3)
    assert [e.seq for e in first.items] == [1, 3, 5]
    assert [e.seq for e in second.items] == [7, 9]


async def test_iteration_with_small_pages_reads_everything(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=7)
    found = await db.query(Event).where(attr("stream") == "s").page_size(2).all()
    assert [e.seq for e in found] == list(range(7))


async def test_a_tampered_cursor_is_refused(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=4)
    query = db.query(Event).where(attr("stream") == "s")
    page = await query.page(size=2)
    assert page.cursor is not None
    tampered = page.cursor[:-3] + ("AAA" if not page.cursor.endswith("AAA") else "BBB")
    with pytest.raises(CursorError):
        await query.page(tampered, size=2)


async def test_a_cursor_from_another_query_is_refused(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=4)
    page = await db.query(Event).where(attr("stream") == "s").page(size=2)
    other = db.query(Event).where(attr("stream") == "s").filter(attr("kind") == "odd")
    with pytest.raises(CursorError):
        await other.page(page.cursor)


async def test_count_counts_matching_items_across_pages(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=6)
    query = db.query(Event).where(attr("stream") == "s", attr("seq") >= 2)
    assert await query.count() == 4


async def test_first_and_limit(db: DB, make_tables: MakeTables) -> None:
    await seed_events(db, make_tables, count=5)
    query = db.query(Event).where(attr("stream") == "s")
    first = await query.descending().first()
    assert first is not None and first.seq == 4
    assert [e.seq for e in await query.limit(2).all()] == [0, 1]
