"""A write whose answer was lost is applied exactly once, and never reported as a conflict.

A proxy between the client and the server lets the server apply a write and then resets the
connection instead of passing the answer on (or drops the request before the server sees it).
Each test reads the item back to count how often the write landed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace

import pytest

from asyncdynamo import DB, Config, RetryPolicy, Update, WriteOutcomeUnknownError
from asyncdynamo.testing import FaultProxy, Reset, Stage, Stall
from tests.models import Account, Note

MakeTables = Callable[..., Awaitable[list[str]]]


class ReplyDropper:
    """The proxy's faults this file uses, by name: each applies to the next call of ``operation``."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.url = proxy.url

    def drop_reply(self, operation: str) -> None:
        """The server applies the call; the client's connection is reset instead of answered."""
        self.proxy.inject(Reset(Stage.AFTER_FORWARD), operation=operation, nth=1)

    def hold_reply(self, operation: str) -> None:
        """The server applies the call; its answer is held back past the client's read timeout."""
        self.proxy.inject(Stall(Stage.AFTER_FORWARD), operation=operation, nth=1)

    def drop_request(self, operation: str) -> None:
        """The connection is reset before the call reaches the server."""
        self.proxy.inject(Reset(), operation=operation, nth=1)

    def forwarded(self, operation: str) -> int:
        return self.proxy.counts(operation).forwarded


@pytest.fixture
def dropper(fault_proxy: FaultProxy) -> Iterator[ReplyDropper]:
    yield ReplyDropper(fault_proxy)
    fault_proxy.release()


@pytest.fixture
async def proxied(dynamo_config: Config, dropper: ReplyDropper) -> AsyncIterator[DB]:
    config = replace(
        dynamo_config, endpoint_url=dropper.url, retry=RetryPolicy(base=0.001, cap=0.01)
    )
    async with DB(config) as database:
        yield database


async def test_versioned_debit_whose_reply_was_lost_is_applied_once(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    account = await db.put(Account(account_id="a1", owner="ann", balance=500))
    dropper.drop_reply("UpdateItem")

    debited = await proxied.update(account, changes=Update().increment("balance", -100))

    stored = await db.get(Account, "a1", consistent=True, required=True)
    assert (stored.balance, stored.version) == (400, 2)
    assert (debited.balance, debited.version) == (400, 2)
    assert dropper.forwarded("UpdateItem") == 2  # the resend found our own write


async def test_versioned_debit_whose_reply_came_after_the_read_timeout_is_applied_once(
    db: DB, dynamo_config: Config, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    account = await db.put(Account(account_id="a1", owner="ann", balance=500))
    dropper.hold_reply("UpdateItem")
    config = replace(
        dynamo_config,
        endpoint_url=dropper.url,
        read_timeout=0.5,
        retry=RetryPolicy(base=0.001, cap=0.01),
    )

    async with DB(config) as impatient:
        debited = await impatient.update(account, changes=Update().increment("balance", -100))

    stored = await db.get(Account, "a1", consistent=True, required=True)
    assert (stored.balance, stored.version) == (400, 2)
    assert debited.balance == 400


async def test_versioned_debit_whose_request_was_lost_is_applied_once(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    account = await db.put(Account(account_id="a1", owner="ann", balance=500))
    dropper.drop_request("UpdateItem")

    debited = await proxied.update(account, changes=Update().increment("balance", -100))

    stored = await db.get(Account, "a1", consistent=True, required=True)
    assert (stored.balance, stored.version) == (400, 2)
    assert debited.balance == 400


async def test_create_whose_reply_was_lost_succeeds_instead_of_already_existing(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    dropper.drop_reply("PutItem")

    created = await proxied.put(Account(account_id="a1", owner="ann", balance=500))

    stored = await db.get(Account, "a1", consistent=True, required=True)
    assert (stored.balance, stored.version) == (500, 1)
    assert created.version == 1


async def test_unversioned_create_whose_reply_was_lost_succeeds(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    dropper.drop_reply("PutItem")

    await proxied.put(Note(note_id="n1", text="hello"))

    assert await db.get(Note, "n1", consistent=True) == Note(note_id="n1", text="hello")


async def test_conditional_delete_whose_reply_was_lost_reports_an_unknown_outcome(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    account = await db.put(Account(account_id="a1", owner="ann"))
    dropper.drop_reply("DeleteItem")

    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await proxied.delete(account)

    assert await db.get(Account, "a1", consistent=True) is None
    assert raised.value.key == {"account_id": {"S": "a1"}}
    assert raised.value.table.endswith("accounts")
    assert not raised.value.retryable


async def test_conditional_delete_whose_request_was_lost_deletes_once(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    account = await db.put(Account(account_id="a1", owner="ann"))
    dropper.drop_request("DeleteItem")

    deleted = await proxied.delete(account)

    assert deleted is not None and deleted.account_id == "a1"
    assert await db.get(Account, "a1", consistent=True) is None


async def test_add_whose_reply_was_lost_is_applied_once(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    await db.put(Note(note_id="n1"))
    dropper.drop_reply("UpdateItem")

    updated = await proxied.update(Note, "n1", changes=Update().add("count", 5))

    stored = await db.get(Note, "n1", consistent=True, required=True)
    assert stored.count == 5
    assert updated.count == 5
    assert dropper.forwarded("UpdateItem") == 1  # read back, never re-sent


async def test_add_whose_request_was_lost_is_never_applied_twice(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    await db.put(Note(note_id="n1"))
    dropper.drop_request("UpdateItem")

    # The client cannot tell a lost request from a lost reply; re-sending an ADD could count
    # it twice, so the caller is told the outcome is unknown (here: not applied).
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await proxied.update(Note, "n1", changes=Update().add("count", 5))

    stored = await db.get(Note, "n1", consistent=True, required=True)
    assert stored.count == 0
    assert raised.value.item is not None


async def test_overwrite_whose_reply_was_lost_is_recognised(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    await db.put(Note(note_id="n1", text="old"))
    dropper.drop_reply("PutItem")

    await proxied.put(Note(note_id="n1", text="new"), overwrite=True)

    stored = await db.get(Note, "n1", consistent=True, required=True)
    assert stored.text == "new"
    assert dropper.forwarded("PutItem") == 1


@pytest.mark.parametrize("lose", ["reply", "request"])
async def test_transaction_whose_reply_or_request_was_lost_is_applied_once(
    db: DB, proxied: DB, dropper: ReplyDropper, make_tables: MakeTables, lose: str
) -> None:
    await make_tables(Account, Note)
    account = await db.put(Account(account_id="a1", owner="ann", balance=500))
    await db.put(Note(note_id="n1"))
    if lose == "reply":
        dropper.drop_reply("TransactWriteItems")
    else:
        dropper.drop_request("TransactWriteItems")

    async with proxied.transaction() as tx:  # resent with its ClientRequestToken
        tx.update(account, changes=Update().increment("balance", -100))
        tx.update(Note, "n1", changes=Update().add("count", 5))

    stored = await db.get(Account, "a1", consistent=True, required=True)
    note = await db.get(Note, "n1", consistent=True, required=True)
    assert (stored.balance, stored.version, note.count) == (400, 2, 5)
    assert dropper.forwarded("TransactWriteItems") == (2 if lose == "reply" else 1)
