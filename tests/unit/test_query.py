"""The query builder: index selection, plans, pages, cursors (fake transport, no server)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from asyncdynamo import (
    CursorError,
    ExpressionError,
    NoIndexForQueryError,
    ResultShape,
    TargetKind,
    UsageError,
    attr,
)
from tests.fakes import FakeTransport, fake_db
from tests.integration.query_models import Event
from tests.models import Order

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def event_item(seq: int) -> dict[str, Any]:
    return {"stream": {"S": "s"}, "seq": {"N": str(seq)}, "kind": {"S": "k"}}


def page(*seqs: int, last: int | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"Items": [event_item(s) for s in seqs], "Count": len(seqs)}
    if last is not None:
        response["LastEvaluatedKey"] = {"stream": {"S": "s"}, "seq": {"N": str(last)}}
    return response


# -- index selection --------------------------------------------------------------------------


def test_partition_key_alone_queries_the_table() -> None:
    plan = fake_db(FakeTransport()).query(Order).where(attr("customer_id") == "c1").explain()
    assert (plan.index, plan.target) == (None, TargetKind.TABLE)


def test_table_sort_key_condition_stays_on_the_table() -> None:
    query = fake_db(FakeTransport()).query(Order)
    plan = query.where(attr("customer_id") == "c1", attr("order_id").begins_with("o")).explain()
    assert (plan.index, plan.sort_key) == (None, "order_id")


def test_sort_condition_on_a_local_index_key_picks_that_index() -> None:
    query = fake_db(FakeTransport()).query(Order)
    plan = query.where(attr("customer_id") == "c1", attr("placed_at") >= T0).explain()
    assert (plan.index, plan.target, plan.sort_key) == (
        "by_placed",
        TargetKind.LOCAL_INDEX,
        "placed_at",
    )


def test_global_index_partition_key_picks_that_index() -> None:
    plan = fake_db(FakeTransport()).query(Order).where(attr("status") == "paid").explain()
    assert (plan.index, plan.target) == ("by_status", TargetKind.GLOBAL_INDEX)
    assert plan.params["IndexName"] == "by_status"


def test_index_that_also_serves_the_sort_condition_wins() -> None:
    query = fake_db(FakeTransport()).query(Event).project("seq")
    plan = query.where(attr("kind") == "k", attr("weight") > 3).explain()
    assert (plan.index, plan.sort_key, plan.filtered) == ("by_kind_weight", "weight", ())


def test_condition_no_key_can_take_becomes_a_filter() -> None:
    query = fake_db(FakeTransport()).query(Order)
    plan = query.where(attr("customer_id") == "c1", attr("note") == "x").explain()
    assert (plan.index, plan.filtered) == (None, ("note",))
    assert "FilterExpression" in plan.params


def test_explicit_index_overrides_the_choice() -> None:
    query = fake_db(FakeTransport()).query(Order).where(attr("customer_id") == "c1")
    assert query.index("by_placed").explain().index == "by_placed"


def test_explicit_index_that_cannot_serve_raises_naming_it() -> None:
    query = fake_db(FakeTransport()).query(Order).where(attr("customer_id") == "c1")
    with pytest.raises(NoIndexForQueryError) as caught:
        query.index("by_status").explain()
    assert caught.value.considered == ("by_status",)


def test_query_no_index_can_serve_names_every_candidate() -> None:
    query = fake_db(FakeTransport()).query(Order).where(attr("note") == "x")
    with pytest.raises(NoIndexForQueryError, match="note") as caught:
        query.explain()
    assert caught.value.considered == ("table", "by_status", "by_placed")


def test_range_on_a_partition_key_cannot_be_served() -> None:
    with pytest.raises(NoIndexForQueryError, match="needs ="):
        fake_db(FakeTransport()).query(Order).where(attr("customer_id") > "c").explain()


def test_consistent_read_never_picks_a_global_index() -> None:
    query = fake_db(FakeTransport()).query(Order).where(attr("status") == "paid").consistent()
    with pytest.raises(NoIndexForQueryError, match="consistent"):
        query.explain()


def test_explain_lists_why_other_candidates_lost() -> None:
    plan = fake_db(FakeTransport()).query(Order).where(attr("customer_id") == "c1").explain()
    assert plan.considered == ("table", "by_status", "by_placed")
    assert set(plan.rejected) == {"by_status", "by_placed"}


# -- what where() and filter() accept -----------------------------------------------------------


def test_where_refuses_non_key_operators() -> None:
    query = fake_db(FakeTransport()).query(Order).where(attr("customer_id") != "c1")
    with pytest.raises(ExpressionError, match="key conditions"):
        query.explain()


def test_where_refuses_two_conditions_on_one_field() -> None:
    query = fake_db(FakeTransport()).query(Order)
    query = query.where(attr("customer_id") == "c1", attr("order_id") > "a", attr("order_id") < "z")
    with pytest.raises(ExpressionError, match="between"):
        query.explain()


def test_conditions_combined_with_and_in_where_are_split() -> None:
    query = fake_db(FakeTransport()).query(Order)
    plan = query.where((attr("customer_id") == "c1") & (attr("order_id") == "o1")).explain()
    assert plan.params["KeyConditionExpression"] == "#n0 = :v0 AND #n1 = :v1"


def test_a_query_without_where_is_refused() -> None:
    with pytest.raises(UsageError, match="needs where"):
        fake_db(FakeTransport()).query(Order).explain()


def test_a_filter_on_a_queried_key_is_refused() -> None:
    query = fake_db(FakeTransport()).query(Order).where(attr("customer_id") == "c1")
    with pytest.raises(ExpressionError, match="put the condition in where"):
        query.filter(attr("order_id") == "o1").explain()


# -- projections and index projections ----------------------------------------------------------


def test_keys_only_index_without_projection_is_refused() -> None:
    query = fake_db(FakeTransport()).query(Event).where(attr("kind") == "k")
    with pytest.raises(UsageError, match="cannot be full models"):
        query.explain()


def test_projected_reads_return_dicts() -> None:
    query = fake_db(FakeTransport()).query(Event).where(attr("kind") == "k").project("seq")
    plan = query.explain()
    assert plan.result is ResultShape.DICTS
    assert plan.params["ProjectionExpression"] == "#n1"


def test_projecting_a_field_a_global_index_lacks_is_refused() -> None:
    query = fake_db(FakeTransport()).query(Event).where(attr("kind") == "k").project("label")
    with pytest.raises(UsageError, match="does not hold label"):
        query.explain()


# -- request parameters ----------------------------------------------------------------------


def test_descending_and_consistent_set_their_parameters() -> None:
    query = fake_db(FakeTransport()).query(Event).where(attr("stream") == "s")
    params = query.descending().consistent().explain().params
    assert params["ScanIndexForward"] is False and params["ConsistentRead"] is True


def test_builder_methods_leave_the_original_unchanged() -> None:
    base = fake_db(FakeTransport()).query(Event).where(attr("stream") == "s")
    base.descending()
    assert "ScanIndexForward" not in base.explain().params


async def test_count_asks_for_counts_across_pages() -> None:
    transport = FakeTransport(
        script=[{"Count": 2, "LastEvaluatedKey": {"x": {"S": "1"}}}, {"Count": 3}]
    )
    count = await fake_db(transport).query(Event).where(attr("stream") == "s").count()
    assert count == 5
    assert all(c.params["Select"] == "COUNT" for c in transport.calls)
    assert "ExclusiveStartKey" in transport.calls[1].params


# -- pages, iteration and cursors ---------------------------------------------------------------


async def test_page_keeps_reading_until_it_is_full() -> None:
    transport = FakeTransport(script=[page(1, last=3), page(4, 5, last=5)])
    result = await fake_db(transport).query(Event).where(attr("stream") == "s").page(size=3)
    assert [e.seq for e in result.items] == [1, 4, 5]
    assert [c.params["Limit"] for c in transport.calls] == [3, 2]
    assert result.cursor is not None


async def test_last_page_has_no_cursor() -> None:
    transport = FakeTransport(script=[page(1, 2)])
    result = await fake_db(transport).query(Event).where(attr("stream") == "s").page(size=5)
    assert result.cursor is None and len(result) == 2


async def test_cursor_resumes_after_the_last_evaluated_key() -> None:
    transport = FakeTransport(script=[page(1, last=1), page(2)])
    query = fake_db(transport).query(Event).where(attr("stream") == "s")
    first = await query.page(size=1)
    await query.page(first.cursor, size=1)
    assert transport.calls[1].params["ExclusiveStartKey"] == {
        "stream": {"S": "s"},
        "seq": {"N": "1"},
    }


async def test_cursor_of_another_query_is_refused_before_sending() -> None:
    transport = FakeTransport(script=[page(1, last=1)])
    db = fake_db(transport)
    first = await db.query(Event).where(attr("stream") == "s").page(size=1)
    with pytest.raises(CursorError):
        await db.query(Event).where(attr("stream") == "other").page(first.cursor)
    assert len(transport.calls) == 1


async def test_cursor_with_another_direction_is_refused() -> None:
    transport = FakeTransport(script=[page(1, last=1)])
    query = fake_db(transport).query(Event).where(attr("stream") == "s")
    first = await query.page(size=1)
    with pytest.raises(CursorError):
        await query.descending().page(first.cursor)


async def test_iteration_fetches_pages_only_when_needed() -> None:
    transport = FakeTransport(script=[page(1, 2, last=2), page(3)])
    items = aiter(fake_db(transport).query(Event).where(attr("stream") == "s"))
    assert (await anext(items)).seq == 1
    assert len(transport.calls) == 1
    assert [(await anext(items)).seq, (await anext(items)).seq] == [2, 3]
    assert len(transport.calls) == 2


async def test_limit_caps_items_and_requests_only_what_is_needed() -> None:
    transport = FakeTransport(script=[page(1, 2, last=2), page(3, last=3)])
    query = fake_db(transport).query(Event).where(attr("stream") == "s").limit(3)
    assert [e.seq for e in await query.all()] == [1, 2, 3]
    assert [c.params["Limit"] for c in transport.calls] == [3, 1]


async def test_limit_with_a_filter_does_not_shrink_requests() -> None:
    transport = FakeTransport(script=[page(1, 2)])
    query = (
        fake_db(transport).query(Event).where(attr("stream") == "s").filter(attr("label") == "x")
    )
    await query.limit(1).page_size(10).all()
    assert transport.calls[0].params["Limit"] == 10


async def test_first_returns_none_when_nothing_matches() -> None:
    transport = FakeTransport(script=[page()])
    assert await fake_db(transport).query(Event).where(attr("stream") == "s").first() is None


async def test_pages_walks_to_the_end() -> None:
    transport = FakeTransport(script=[page(1, last=1), page(2, last=2), page()])
    query = fake_db(transport).query(Event).where(attr("stream") == "s")
    seen = [[e.seq for e in p.items] async for p in query.pages(size=1)]
    assert seen == [[1], [2]]


async def test_page_size_must_be_positive() -> None:
    with pytest.raises(UsageError):
        await fake_db(FakeTransport()).query(Event).where(attr("stream") == "s").page(size=0)


async def test_cursors_work_across_dbs_sharing_a_cursor_secret() -> None:
    secret = b"k" * 32
    first_db = fake_db(FakeTransport(script=[page(1, last=1)]), cursor_secret=secret)
    second_transport = FakeTransport(script=[page(2)])
    second_db = fake_db(second_transport, cursor_secret=secret)
    first = await first_db.query(Event).where(attr("stream") == "s").page(size=1)
    await second_db.query(Event).where(attr("stream") == "s").page(first.cursor, size=1)
    assert "ExclusiveStartKey" in second_transport.calls[0].params


async def test_without_a_cursor_secret_cursors_stay_in_their_db() -> None:
    first_db = fake_db(FakeTransport(script=[page(1, last=1)]))
    first = await first_db.query(Event).where(attr("stream") == "s").page(size=1)
    with pytest.raises(CursorError):
        await fake_db(FakeTransport()).query(Event).where(attr("stream") == "s").page(first.cursor)
