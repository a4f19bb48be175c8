"""Transactions against the database: all-or-nothing, typed causes, transact_get."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from asyncdynamo import (
    DB,
    ItemAlreadyExistsError,
    Key,
    TransactionFailedError,
    Update,
    VersionConflictError,
    attr,
)
from tests.integration.query_models import Wallet
from tests.models import Note

MakeTables = Callable[..., Awaitable[list[str]]]


async def test_a_transaction_applies_every_action(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Wallet, Note)
    wallet = await db.put(Wallet(wallet_id="w", balance=10))
    await db.put(Note(note_id="gone"))
    await db.put(Note(note_id="limit", count=5))
    async with db.transaction() as tx:
        tx.update(wallet, changes=Update().increment("balance", -4))
        stored = tx.put(Note(note_id="audit", text="debit 4"))
        tx.delete(Note, "gone")
        tx.check(Note, "limit", condition=attr("count") >= 4)
    assert await db.get(Wallet, "w") == Wallet(wallet_id="w", balance=6, version=2)
    assert await db.get(Note, "audit") == stored
    assert await db.get(Note, "gone") is None


async def test_a_stale_version_cancels_everything_and_names_its_action(
    db: DB, make_tables: MakeTables
) -> None:
    await make_tables(Wallet, Note)
    stale = await db.put(Wallet(wallet_id="w", balance=10))
    await db.update(stale, changes=Update().increment("balance", 1))
    tx = db.transaction()
    tx.put(Note(note_id="audit"))
    tx.update(stale, changes=Update().increment("balance", -4))
    with pytest.raises(TransactionFailedError) as caught:
        await tx.commit()
    cause = caught.value.causes[1]
    assert isinstance(cause, VersionConflictError)
    assert (cause.expected_version, cause.actual_version) == (1, 2)
    assert caught.value.failed_actions == (1,)
    assert await db.get(Note, "audit") is None


async def test_a_failed_check_cancels_the_transaction(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Wallet, Note)
    await db.put(Wallet(wallet_id="w", balance=1))
    tx = db.transaction()
    tx.check(Wallet, "w", condition=attr("balance") >= 4)
    tx.put(Note(note_id="audit"))
    with pytest.raises(TransactionFailedError) as caught:
        await tx.commit()
    assert caught.value.failed_actions == (0,)
    assert await db.get(Note, "audit") is None


async def test_create_only_put_on_an_existing_item_is_typed(
    db: DB, make_tables: MakeTables
) -> None:
    await make_tables(Note)
    await db.put(Note(note_id="a"))
    tx = db.transaction()
    tx.put(Note(note_id="a"))
    with pytest.raises(TransactionFailedError) as caught:
        await tx.commit()
    assert isinstance(caught.value.failures[0], ItemAlreadyExistsError)


async def test_transact_get_reads_several_models(db: DB, make_tables: MakeTables) -> None:
    await make_tables(Wallet, Note)
    wallet = await db.put(Wallet(wallet_id="w"))
    note = await db.put(Note(note_id="n"))
    found = await db.transact_get([Key(Wallet, "w"), Key(Note, "n"), Key(Note, "missing")])
    assert found == [wallet, note, None]
