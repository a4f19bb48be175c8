"""A big batch write through throttling, resets and half its items returned unprocessed.

Every item ends up stored exactly once (puts are keyed, so "once" means: every key present, no
extra keys), and the client retried (counted by the proxy: more requests than chunks). When the
deadline ends first, the error names every item it did not write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from asyncdynamo import DB, BatchDeadlineExceededError, Config, RetryPolicy, deadline_scope
from asyncdynamo.testing import ErrorReply, FaultProxy, Reset, Stage, Stall, Unprocessed
from tests.models import Note
from tests.payments.conftest import MakeTables
from tests.reliability.soak import scaled

pytestmark = pytest.mark.integration

ITEMS = scaled(1000, at_most=10_000)
CHUNKS = -(-ITEMS // 25)
DEADLINE = 3.0  # seconds: the stalled requests hold the batch until it ends


def notes() -> list[Note]:
    return [Note(note_id=f"n{i:05d}", text=f"text {i}") for i in range(ITEMS)]


def faulty(proxy: FaultProxy) -> None:
    proxy.inject(Unprocessed(0.5), operation="BatchWriteItem", probability=0.5)
    proxy.inject(ErrorReply.throughput_exceeded(), operation="BatchWriteItem", probability=0.1)
    proxy.inject(Reset(), operation="BatchWriteItem", probability=0.03)
    proxy.inject(Reset(Stage.AFTER_FORWARD), operation="BatchWriteItem", probability=0.03)


def put_ids(requests: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
    return [
        str(request["PutRequest"]["Item"]["note_id"]["S"])
        for entries in requests.values()
        for request in entries
    ]


async def test_a_batch_write_through_faults_stores_every_item_once(
    db: DB, dynamo_config: Config, fault_proxy: FaultProxy, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    faulty(fault_proxy)
    config = replace(
        dynamo_config,
        endpoint_url=fault_proxy.url,
        retry=RetryPolicy(max_attempts=20, base=0.002, cap=0.05),
    )

    async with DB(config) as proxied:
        written = await proxied.batch_write(puts=notes(), concurrency=4)

    stored = [note.note_id async for note in db.scan(Note)]
    counts = fault_proxy.counts("BatchWriteItem")
    print(f"\nbatch {ITEMS} items in {CHUNKS} chunks: {counts}")
    assert len(written) == ITEMS
    assert len(stored) == len(set(stored)) == ITEMS
    assert set(stored) == {note.note_id for note in notes()}
    assert counts.received > CHUNKS  # retried: unprocessed items, throttling and resets
    assert counts.injected > 0


async def test_a_deadline_during_a_faulty_batch_write_reports_every_unwritten_item(
    db: DB, dynamo_config: Config, fault_proxy: FaultProxy, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    faulty(fault_proxy)
    fault_proxy.inject(Stall(), operation="BatchWriteItem", probability=0.2)
    config = replace(
        dynamo_config,
        endpoint_url=fault_proxy.url,
        retry=RetryPolicy(max_attempts=20, base=0.002, cap=0.05),
    )
    deadline = asyncio.get_running_loop().time() + DEADLINE

    async with DB(config) as proxied:
        with deadline_scope(deadline), pytest.raises(BatchDeadlineExceededError) as raised:
            await proxied.batch_write(puts=notes(), concurrency=4)
    fault_proxy.release()

    stored = {note.note_id async for note in db.scan(Note)}
    unwritten = put_ids(raised.value.unprocessed)
    print(
        f"\nbatch deadline: {len(stored)} stored, {len(unwritten)} reported unwritten, "
        f"{fault_proxy.counts('BatchWriteItem')}"
    )
    assert len(unwritten) == len(set(unwritten))
    assert stored | set(unwritten) == {note.note_id for note in notes()}  # nothing unaccounted
    assert raised.value.processed_count == ITEMS - len(unwritten)
    assert unwritten  # the deadline did end it first
