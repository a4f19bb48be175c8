"""The fault proxy against the test server, through both transports: counts, not timings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest

from asyncdynamo import (
    DB,
    Config,
    InternalServerError,
    RetryPolicy,
    ServiceError,
    ThrottlingError,
    TransactionCanceledError,
    TransportError,
    Update,
    WriteOutcomeUnknownError,
)
from asyncdynamo.testing import (
    Counts,
    Delay,
    Endpoint,
    ErrorReply,
    FaultProxy,
    Reset,
    Stage,
    Stall,
    TransactionConflict,
    Unprocessed,
)
from tests.integration.query_models import Wallet
from tests.models import Note

pytestmark = pytest.mark.integration

MakeTables = Callable[..., Awaitable[list[str]]]


@pytest.fixture
async def proxied(
    dynamo_config: Config, fault_proxy: FaultProxy, make_tables: MakeTables
) -> AsyncIterator[DB]:
    """A DB through the proxy that never retries, so each fault's own effect shows."""
    await make_tables(Note)  # through `db`, straight to the server: not counted
    config = replace(dynamo_config, endpoint_url=fault_proxy.url, retry=RetryPolicy(max_attempts=1))
    async with DB(config) as database:
        yield database


@pytest.fixture
async def retrying(
    dynamo_config: Config, fault_proxy: FaultProxy, proxied: DB
) -> AsyncIterator[DB]:
    """A DB through the proxy with quick retries."""
    config = replace(
        dynamo_config, endpoint_url=fault_proxy.url, retry=RetryPolicy(max_attempts=5, base=0.001)
    )
    async with DB(config) as database:
        yield database


async def until(condition: Callable[[], bool]) -> None:
    """Poll (bounded) a condition on the proxy's thread, which has no event to await here."""
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - the state lives on another thread's loop
            await asyncio.sleep(0.005)


ERRORS = [
    (ErrorReply.throttling(), ThrottlingError, 400),
    (ErrorReply.throughput_exceeded(), ThrottlingError, 400),
    (ErrorReply.request_limit_exceeded(), ThrottlingError, 400),
    (ErrorReply.internal_error(), InternalServerError, 500),
    (ErrorReply.unavailable(), InternalServerError, 503),
]


@pytest.mark.parametrize(("fault", "error", "status"), ERRORS, ids=lambda v: getattr(v, "code", ""))
async def test_an_error_reply_is_typed_by_the_client_and_nothing_is_sent(
    proxied: DB,
    db: DB,
    fault_proxy: FaultProxy,
    fault: ErrorReply,
    error: type[ServiceError],
    status: int,
) -> None:
    await db.put(Note(note_id="n1"))
    fault_proxy.inject(fault, operation="GetItem")
    with pytest.raises(error) as raised:
        await proxied.get(Note, "n1")
    assert (raised.value.code, raised.value.status) == (fault.code, status)
    assert fault_proxy.counts("GetItem") == Counts(received=1, forwarded=0, injected=1)


async def test_a_server_error_on_a_write_is_resolved_not_reported_as_a_conflict(
    retrying: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    # A 5xx may come after the write was applied: the create is sent again, and succeeds.
    fault_proxy.inject(ErrorReply.internal_error(), operation="PutItem", nth=1)
    stored = await retrying.put(Note(note_id="n1"))
    assert fault_proxy.counts("PutItem") == Counts(received=2, forwarded=1, injected=1)
    assert await db.get(Note, "n1") == stored


async def test_a_write_whose_every_answer_is_a_server_error_has_an_unknown_outcome(
    proxied: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(ErrorReply.unavailable(), operation="PutItem")
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await proxied.put(Note(note_id="n1"))
    assert isinstance(raised.value.cause, InternalServerError)
    counts = fault_proxy.counts("PutItem")
    assert (counts.forwarded, counts.injected) == (0, counts.received)
    assert await db.get(Note, "n1") is None


async def test_the_first_k_matches_fail_and_the_client_retries_past_them(
    retrying: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    rule = fault_proxy.inject(ErrorReply.throttling(), operation="PutItem", first=2)
    stored = await retrying.put(Note(note_id="n1"))
    assert fault_proxy.counts("PutItem") == Counts(received=3, forwarded=1, injected=2)
    assert (rule.matched, rule.injected) == (3, 2)
    assert await db.get(Note, "n1") == stored


async def test_only_the_nth_match_fails_and_other_operations_pass(
    proxied: DB, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(ErrorReply.internal_error(), operation="DynamoDB_20120810.GetItem", nth=2)
    await proxied.put(Note(note_id="n1"))
    assert await proxied.get(Note, "n1") is not None
    with pytest.raises(InternalServerError):
        await proxied.get(Note, "n1")
    assert await proxied.get(Note, "n1") is not None
    assert fault_proxy.counts("GetItem") == Counts(received=3, forwarded=2, injected=1)
    assert fault_proxy.counts("PutItem") == Counts(received=1, forwarded=1, injected=0)
    assert fault_proxy.counts() == Counts(received=4, forwarded=3, injected=1)


async def test_a_reset_before_forwarding_reaches_nothing(
    proxied: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Reset(), operation="GetItem")
    with pytest.raises(TransportError):
        await proxied.get(Note, "n1")
    assert fault_proxy.counts("GetItem") == Counts(received=1, forwarded=0, injected=1)


async def test_a_write_reset_before_forwarding_is_never_applied_nor_reported_as_applied(
    proxied: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    # The client cannot tell a reset before forwarding from one after: the outcome is unknown.
    fault_proxy.inject(Reset(), operation="PutItem")
    with pytest.raises(WriteOutcomeUnknownError):
        await proxied.put(Note(note_id="n1"))
    counts = fault_proxy.counts("PutItem")
    assert (counts.forwarded, counts.injected) == (0, counts.received)
    assert await db.get(Note, "n1") is None


async def test_a_reset_after_forwarding_applies_the_write_once_and_the_caller_sees_success(
    retrying: DB, db: DB, fault_proxy: FaultProxy, make_tables: MakeTables
) -> None:
    await make_tables(Wallet)
    wallet = await db.put(Wallet(wallet_id="w", balance=100))
    fault_proxy.inject(Reset(Stage.AFTER_FORWARD), operation="UpdateItem", nth=1)
    updated = await retrying.update(wallet, changes=Update().increment("balance", -30))
    # The first attempt was applied and its reply lost; the resend's failed condition showed
    # our own write token, so the debit counts once and the caller gets the stored item.
    assert fault_proxy.counts("UpdateItem") == Counts(received=2, forwarded=2, injected=1)
    assert updated == Wallet(wallet_id="w", balance=70, version=2)
    assert await db.get(Wallet, "w") == updated


async def test_keep_alive_connections_carry_many_requests(
    proxied: DB, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Delay(0.001, jitter=0.002), operation="GetItem")
    await proxied.put(Note(note_id="n1"))
    for _ in range(10):
        assert await proxied.get(Note, "n1") is not None
    assert fault_proxy.counts("GetItem") == Counts(received=10, forwarded=10, injected=10)
    assert fault_proxy.connections == 1


@pytest.mark.parametrize("stage", list(Stage))
async def test_a_stall_holds_the_call_until_released(
    proxied: DB, db: DB, fault_proxy: FaultProxy, stage: Stage
) -> None:
    rule = fault_proxy.inject(Stall(stage), operation="PutItem")
    call = asyncio.create_task(proxied.put(Note(note_id="n1")))
    async with asyncio.timeout(10):
        await fault_proxy.wait_for_injected(rule)
    applied = stage is Stage.AFTER_FORWARD
    forwarded = fault_proxy.counts("PutItem").forwarded
    assert (forwarded, await db.get(Note, "n1") is not None) == (int(applied), applied)
    assert not call.done()
    fault_proxy.release()
    assert await call == await db.get(Note, "n1")
    assert fault_proxy.counts("PutItem") == Counts(received=1, forwarded=1, injected=1)


async def test_unprocessed_writes_are_never_applied(
    proxied: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Unprocessed(0.5))
    table = proxied.table_name(Note)
    puts = [{"PutRequest": {"Item": {"note_id": {"S": f"n{i}"}}}} for i in range(5)]
    answer = await proxied.client.call("BatchWriteItem", {"RequestItems": {table: puts}})
    assert answer["UnprocessedItems"] == {table: puts[2:]}
    assert [await db.get(Note, f"n{i}") is not None for i in range(5)] == [True] * 2 + [False] * 3
    assert fault_proxy.counts("BatchWriteItem") == Counts(received=1, forwarded=1, injected=1)


async def test_unprocessed_keys_keep_the_table_options(
    proxied: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    await db.batch_write(puts=[Note(note_id=f"n{i}") for i in range(4)])
    fault_proxy.inject(Unprocessed(0.5), operation="BatchGetItem")
    table = proxied.table_name(Note)
    keys = [{"note_id": {"S": f"n{i}"}} for i in range(4)]
    request = {table: {"Keys": keys, "ConsistentRead": True}}
    answer = await proxied.client.call("BatchGetItem", {"RequestItems": request})
    assert sorted(item["note_id"]["S"] for item in answer["Responses"][table]) == ["n0", "n1"]
    assert answer["UnprocessedKeys"] == {table: {"Keys": keys[2:], "ConsistentRead": True}}


async def test_a_wholly_unprocessed_batch_is_not_forwarded_and_the_client_retries_it(
    retrying: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    fault_proxy.inject(Unprocessed(1.0), operation="BatchWriteItem", first=1)
    await retrying.batch_write(puts=[Note(note_id=f"n{i}") for i in range(3)])
    assert fault_proxy.counts("BatchWriteItem") == Counts(received=2, forwarded=1, injected=1)
    assert len(await db.batch_get(Note, ["n0", "n1", "n2"])) == 3


async def test_a_transaction_conflict_cancels_without_forwarding(
    proxied: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    rule = fault_proxy.inject(TransactionConflict(index=1))
    await proxied.put(Note(note_id="n0"))  # not a transaction: the rule does not count it
    transaction = proxied.transaction()
    transaction.put(Note(note_id="n1"))
    transaction.put(Note(note_id="n2"))
    with pytest.raises(TransactionCanceledError) as raised:
        await transaction.commit()
    assert [reason.code for reason in raised.value.reasons] == ["None", "TransactionConflict"]
    assert (rule.matched, rule.injected) == (1, 1)
    assert fault_proxy.counts("TransactWriteItems") == Counts(received=1, forwarded=0, injected=1)
    assert await db.get(Note, "n1") is None


async def test_concurrent_calls_are_each_counted_once(
    retrying: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    await db.put(Note(note_id="n1"))
    throttle = fault_proxy.inject(ErrorReply.throttling(), operation="GetItem", first=5)
    found = await asyncio.gather(*(retrying.get(Note, "n1") for _ in range(20)))
    assert all(note is not None for note in found)
    assert (throttle.matched, throttle.injected) == (25, 5)
    assert fault_proxy.counts("GetItem") == Counts(received=25, forwarded=20, injected=5)


async def test_a_rule_with_a_probability_fails_some_requests_and_counts_add_up(
    dynamo_config: Config, dynamo_endpoint: Endpoint, db: DB, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    await db.put(Note(note_id="n1"))
    assert dynamo_endpoint.url is not None
    with FaultProxy(dynamo_endpoint.url, seed=20261130) as proxy:  # seeded: the same every run
        rule = proxy.inject(ErrorReply.throttling(), operation="GetItem", probability=0.3)
        retry = RetryPolicy(max_attempts=10, base=0.001)
        async with DB(replace(dynamo_config, endpoint_url=proxy.url, retry=retry)) as proxied:
            for _ in range(20):
                assert await proxied.get(Note, "n1") is not None
    counts = proxy.counts("GetItem")
    assert counts.forwarded == 20
    assert counts.received == rule.matched == 20 + rule.injected
    assert 0 < counts.injected == rule.injected < counts.received


async def test_a_held_request_whose_client_left_is_dropped_not_sent_late(
    dynamo_config: Config, db: DB, fault_proxy: FaultProxy, proxied: DB
) -> None:
    stall = fault_proxy.inject(Stall(), operation="PutItem")
    impatient = replace(
        dynamo_config,
        endpoint_url=fault_proxy.url,
        read_timeout=0.2,
        retry=RetryPolicy(max_attempts=1),
    )
    async with DB(impatient) as client:
        # Held past the read timeout: possibly applied, so the outcome is unknown to the caller.
        with pytest.raises(WriteOutcomeUnknownError):
            await client.put(Note(note_id="n1"))
    await until(lambda: fault_proxy.open_connections == 0)  # the closed client's FIN arrived
    stall.release()
    held = fault_proxy.counts("PutItem").received
    await until(lambda: fault_proxy.counts("PutItem").dropped == held)
    assert fault_proxy.counts("PutItem") == Counts(
        received=held, forwarded=0, injected=held, dropped=held
    )
    assert await db.get(Note, "n1") is None


async def test_a_create_on_a_reused_connection_whose_reply_is_lost_is_never_a_conflict(
    retrying: DB, db: DB, fault_proxy: FaultProxy
) -> None:
    await retrying.put(Note(note_id="warm"))  # the next request goes over a pooled connection
    fault_proxy.inject(Reset(Stage.AFTER_FORWARD), operation="PutItem", nth=1)
    stored = await retrying.put(Note(note_id="n1"))
    assert await db.get(Note, "n1") == stored
    assert fault_proxy.counts("PutItem").forwarded == 3  # warm-up, the lost one, one resend
