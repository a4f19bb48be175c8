"""Scans with a fake transport: parallel segments, streaming, errors and early stops."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from asyncdynamo import ServiceValidationError, UsageError, attr
from tests.fakes import FakeTransport, fake_db
from tests.models import Note, Order


def note(note_id: str) -> dict[str, Any]:
    return {"note_id": {"S": note_id}}


def two_pages_per_segment(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    segment = params["Segment"]
    if "ExclusiveStartKey" not in params:
        return {"Items": [note(f"s{segment}-a")], "LastEvaluatedKey": note(f"s{segment}-a")}
    return {"Items": [note(f"s{segment}-b")]}


async def test_parallel_scan_reads_every_segment_to_its_end() -> None:
    transport = FakeTransport(handler=two_pages_per_segment)
    found = await fake_db(transport).scan(Note).parallel(segments=5, concurrency=2).all()
    assert sorted(n.note_id for n in found) == sorted(f"s{s}-{p}" for s in range(5) for p in "ab")
    assert sorted(c.params["Segment"] for c in transport.calls) == sorted([*range(5)] * 2)
    assert {c.params["TotalSegments"] for c in transport.calls} == {5}


async def test_parallel_scan_passes_filters_to_every_segment() -> None:
    transport = FakeTransport(handler=two_pages_per_segment)
    await fake_db(transport).scan(Note).filter(attr("count") > 1).parallel(segments=2).all()
    assert all("FilterExpression" in c.params for c in transport.calls)


async def test_a_failing_segment_raises_its_error_to_the_consumer() -> None:
    def handler(operation: str, params: dict[str, Any]) -> Any:
        if params["Segment"] == 2:
            return ServiceValidationError("bad segment")
        return two_pages_per_segment(operation, params)

    transport = FakeTransport(handler=handler)
    with pytest.raises(ServiceValidationError, match="bad segment"):
        await fake_db(transport).scan(Note).parallel(segments=4).all()


async def test_stopping_early_stops_the_workers() -> None:
    release = asyncio.Event()
    calls = 0

    class Endless(FakeTransport):
        async def call(self, operation: str, params: Any) -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls > 2:
                await release.wait()  # a worker stuck in a request must be cancelled
            return {"Items": [note(f"n{calls}")], "LastEvaluatedKey": note("x")}

    scan = fake_db(Endless()).scan(Note).parallel(segments=3, concurrency=3)
    async with scan:
        async for _ in scan:
            break
    # Leaving the block waited for the producer and its workers: nothing is left running.
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_parallel_scan_validates_its_arguments() -> None:
    scan = fake_db(FakeTransport()).scan(Note)
    with pytest.raises(UsageError):
        scan.parallel(segments=0)
    with pytest.raises(UsageError):
        scan.parallel(segments=2, concurrency=0)


async def test_consistent_scan_of_a_global_index_is_refused() -> None:
    with pytest.raises(UsageError, match="global"):
        await fake_db(FakeTransport()).scan(Order).index("by_status").consistent().all()
