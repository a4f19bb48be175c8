"""A deadline in the middle of a batch: the error says exactly what was not done.

A transport in front of the real server lets the first requests through and then stalls: it
sends each later request on and holds its reply (written, but the answer never comes), so the
deadline ends the batch with chunks done, chunks in flight and chunks never sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    BatchDeadlineExceededError,
    BatchLambdaTimeoutError,
    Config,
    LambdaConfig,
    LambdaDB,
    LambdaEnvironment,
    LambdaTimeoutError,
    Transport,
    create_transport,
    deadline_scope,
)
from asyncdynamo.lambda_testing import LambdaContext
from tests.models import Note

pytestmark = pytest.mark.integration

ITEMS = 180  # 8 chunks of up to 25
TIME = (
    2.5  # seconds before the deadline: plenty for the requests let through, even on a busy machine
)


class StallAfter:
    """Forwards the first ``answered`` batch requests; later ones are sent but never answered."""

    def __init__(self, inner: Transport, answered: int) -> None:
        self.inner = inner
        self.answered = answered
        self.stalled = 0

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if not operation.startswith("Batch"):
            return await self.inner.call(operation, params)
        if self.answered > 0:
            self.answered -= 1
            return await self.inner.call(operation, params)
        await self.inner.call(operation, params)  # applied...
        self.stalled += 1
        await asyncio.Event().wait()  # ...but the reply is lost
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def tables(make_tables: Callable[..., Awaitable[list[str]]]) -> None:
    await make_tables(Note)


@pytest.fixture
async def stalling(dynamo_config: Config) -> AsyncIterator[Callable[[int], StallAfter]]:
    made: list[StallAfter] = []

    def build(answered: int) -> StallAfter:
        transport = StallAfter(create_transport(dynamo_config), answered)
        made.append(transport)
        return transport

    yield build
    for transport in made:
        await transport.aclose()


def lambda_db_on(config: Config, transport: Transport) -> LambdaDB:
    return LambdaDB(
        LambdaConfig(base_config=config, timeout_buffer=0.05, environment=LambdaEnvironment()),
        transport=transport,
    )


def notes() -> list[Note]:
    return [Note(note_id=f"n{i:03d}", text=f"text {i}") for i in range(ITEMS)]


def put_ids(requests: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
    return [
        str(request["PutRequest"]["Item"]["note_id"]["S"])
        for entries in requests.values()
        for request in entries
    ]


async def stored_ids(db: DB) -> set[str]:
    return {note.note_id async for note in db.scan(Note)}


def assert_accounted_for(error: BatchDeadlineExceededError, stored: set[str]) -> None:
    everything = {note.note_id for note in notes()}
    unprocessed = put_ids(error.unprocessed)
    in_flight = put_ids(error.in_flight)
    assert len(unprocessed) == len(set(unprocessed))  # no duplicates
    assert set(in_flight) <= set(unprocessed)
    assert stored | set(unprocessed) == everything  # nothing lost
    assert not stored & (set(unprocessed) - set(in_flight))  # reported unwritten: not written
    assert error.processed_count == ITEMS - len(unprocessed)
    assert stored - set(unprocessed)  # the deadline really ended it mid-way
    assert set(unprocessed) - stored  # ... with chunks never sent


@pytest.mark.usefixtures("tables")
async def test_a_lambda_deadline_mid_batch_write_reports_every_item_not_written(
    db: DB, dynamo_config: Config, stalling: Callable[[int], StallAfter]
) -> None:
    transport = stalling(2)
    ldb = lambda_db_on(dynamo_config, transport).with_lambda_timeout(LambdaContext(timeout=TIME))

    with pytest.raises(BatchLambdaTimeoutError) as raised:
        await ldb.batch_write(puts=notes(), concurrency=4)

    assert isinstance(raised.value, LambdaTimeoutError)
    assert transport.stalled > 0
    assert put_ids(raised.value.in_flight)  # the stalled requests were written but unanswered
    assert_accounted_for(raised.value, await stored_ids(db))


@pytest.mark.usefixtures("tables")
async def test_a_deadline_scope_mid_batch_write_reports_every_item_not_written(
    db: DB, dynamo_config: Config, stalling: Callable[[int], StallAfter]
) -> None:
    plain = DB(dynamo_config, transport=stalling(3))
    deadline = asyncio.get_running_loop().time() + TIME

    with deadline_scope(deadline), pytest.raises(BatchDeadlineExceededError) as raised:
        await plain.batch_write(puts=notes(), concurrency=2)

    assert not isinstance(raised.value, LambdaTimeoutError)
    assert_accounted_for(raised.value, await stored_ids(db))


@pytest.mark.usefixtures("tables")
async def test_a_lambda_deadline_mid_batch_get_reports_keys_not_read_and_items_read(
    db: DB, dynamo_config: Config, stalling: Callable[[int], StallAfter]
) -> None:
    await db.batch_write(puts=notes())
    ldb = lambda_db_on(dynamo_config, stalling(1)).with_lambda_timeout(LambdaContext(timeout=TIME))
    wanted = [note.note_id for note in notes()]

    with pytest.raises(BatchLambdaTimeoutError) as raised:
        await ldb.batch_get(Note, wanted, concurrency=1)

    read = [note.note_id for note in raised.value.partial]
    not_read = [
        str(key["note_id"]["S"]) for keys in raised.value.unprocessed.values() for key in keys
    ]
    assert len(read) == 100  # the first chunk
    assert sorted(read + not_read) == sorted(wanted)
    assert raised.value.processed_count == len(read)
