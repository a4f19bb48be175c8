"""Lambda deadlines against a real server behind a proxy that stalls or slows requests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace

import pytest

from asyncdynamo import Config, LambdaConfig, LambdaDB, LambdaEnvironment, LambdaTimeoutError, attr
from asyncdynamo.lambda_testing import LambdaContext
from asyncdynamo.testing import Counts, Delay, FaultProxy, Stall
from tests.models import Note

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(fault_proxy: FaultProxy) -> Iterator[FaultProxy]:
    yield fault_proxy
    fault_proxy.release()


@pytest.fixture
async def lambda_db(
    dynamo_config: Config,
    proxy: FaultProxy,
    make_tables: Callable[..., Awaitable[list[str]]],
) -> AsyncIterator[LambdaDB]:
    await make_tables(Note)
    config = LambdaConfig(
        base_config=replace(dynamo_config, endpoint_url=proxy.url),
        timeout_buffer=0.2,
        environment=LambdaEnvironment(),
    )
    async with LambdaDB(config) as db:
        yield db


def leftover_tasks(before: set[asyncio.Task[object]]) -> set[asyncio.Task[object]]:
    return {task for task in asyncio.all_tasks() if task not in before and not task.done()}


async def test_a_stalled_server_raises_lambda_timeout_and_leaves_nothing_running(
    lambda_db: LambdaDB, proxy: FaultProxy
) -> None:
    assert await lambda_db.get(Note, "n0") is None  # the client is set up before the clock runs
    stall = proxy.inject(Stall())
    before = asyncio.all_tasks()
    ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=0.8))
    with pytest.raises(LambdaTimeoutError) as raised:
        await ldb.get(Note, "n1")
    assert raised.value.operation == "GetItem"
    assert stall.injected == 1
    assert proxy.counts() == Counts(received=2, forwarded=1, injected=1)
    assert leftover_tasks(before) == set()


async def test_the_next_invocation_works_after_a_timeout(
    lambda_db: LambdaDB, proxy: FaultProxy
) -> None:
    proxy.inject(Stall())
    with pytest.raises(LambdaTimeoutError):
        await lambda_db.with_lambda_timeout(LambdaContext(timeout=0.5)).get(Note, "n1")
    proxy.release()
    ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=10))
    stored = await ldb.put(Note(note_id="n1", text="after"))
    assert await ldb.get(Note, "n1", consistent=True) == stored


async def test_concurrent_calls_are_all_cut_at_the_deadline(
    lambda_db: LambdaDB, proxy: FaultProxy
) -> None:
    proxy.inject(Stall())
    before = asyncio.all_tasks()
    ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=0.8))
    results = await asyncio.gather(
        *(ldb.get(Note, f"n{i}") for i in range(4)), return_exceptions=True
    )
    assert all(isinstance(result, LambdaTimeoutError) for result in results)
    assert leftover_tasks(before) == set()


async def test_a_slow_server_stops_a_sequence_of_writes_at_the_deadline(
    lambda_db: LambdaDB, proxy: FaultProxy
) -> None:
    proxy.inject(Delay(0.15))
    ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=1.0))

    async def write_many() -> int:
        written = 0
        for i in range(100):  # far more than fit before the deadline at this latency
            await ldb.put(Note(note_id=f"n{i}"))
            written += 1
        return written

    with pytest.raises(LambdaTimeoutError):
        await write_many()


async def test_no_time_left_sends_nothing(lambda_db: LambdaDB, proxy: FaultProxy) -> None:
    ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=0))
    with pytest.raises(LambdaTimeoutError) as raised:
        await ldb.put(Note(note_id="n1"))
    assert raised.value.remaining <= 0
    assert (proxy.connections, proxy.counts().received) == (0, 0)


async def test_queries_batches_and_transactions_work_through_the_view(lambda_db: LambdaDB) -> None:
    ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=20))
    await ldb.batch_write(puts=[Note(note_id=f"n{i}", text="batch") for i in range(3)])
    async with ldb.transaction() as transaction:
        transaction.put(Note(note_id="t1", text="txn"))
    assert [note.text async for note in ldb.query(Note).where(attr("note_id") == "t1")] == ["txn"]
    assert await ldb.scan(Note).count() == 4
    assert len(await ldb.batch_get(Note, ["n0", "n1", "n2"])) == 3


async def test_queries_batches_and_transactions_stop_at_the_deadline(
    lambda_db: LambdaDB, proxy: FaultProxy
) -> None:
    proxy.inject(Stall())
    before = asyncio.all_tasks()

    async def iterate_query(ldb: LambdaDB) -> None:
        async for _ in ldb.query(Note).where(attr("note_id") == "n1"):
            pass

    async def commit_transaction(ldb: LambdaDB) -> None:
        async with ldb.transaction() as transaction:
            transaction.put(Note(note_id="t1"))

    async def count_scan(ldb: LambdaDB) -> None:
        await ldb.scan(Note).count()

    async def write_batch(ldb: LambdaDB) -> None:
        await ldb.batch_write(puts=[Note(note_id=f"n{i}") for i in range(30)])

    for operation in (iterate_query, commit_transaction, count_scan, write_batch):
        ldb = lambda_db.with_lambda_timeout(LambdaContext(timeout=0.5))
        with pytest.raises(LambdaTimeoutError):
            await operation(ldb)
    assert leftover_tasks(before) == set()
