"""Transactions: request shape, limits, idempotency tokens and per-action failure causes."""

from __future__ import annotations

import pytest

from asyncdynamo import (
    CancellationReason,
    InternalServerError,
    ItemAlreadyExistsError,
    Key,
    RequestLimitError,
    TransactionCanceledError,
    TransactionConflictError,
    TransactionFailedError,
    Update,
    UsageError,
    VersionConflictError,
    attr,
)
from tests.fakes import FakeTransport, fake_db
from tests.integration.query_models import Wallet
from tests.models import Note


def cancelled(*reasons: CancellationReason) -> TransactionCanceledError:
    return TransactionCanceledError(
        "Transaction cancelled", reasons=reasons, operation="TransactWriteItems"
    )


OK = CancellationReason("None")


async def test_commit_sends_every_action_with_its_kind() -> None:
    transport = FakeTransport()
    db = fake_db(transport)
    async with db.transaction() as tx:
        tx.put(Note(note_id="a"))
        tx.update(Note, "b", changes=Update().set("text", "x"))
        tx.delete(Note, "c")
        tx.check(Note, "d", condition=attr("count") > 0)
    (call,) = transport.calls
    assert call.operation == "TransactWriteItems"
    kinds = [next(iter(action)) for action in call.params["TransactItems"]]
    assert kinds == ["Put", "Update", "Delete", "ConditionCheck"]


async def test_conditional_actions_ask_for_the_old_item_on_failure() -> None:
    transport = FakeTransport()
    async with fake_db(transport).transaction() as tx:
        tx.put(Note(note_id="a"))  # create-only: conditional
        tx.delete(Note, "c")  # unconditional
    put, delete = (next(iter(a.values())) for a in transport.calls[0].params["TransactItems"])
    assert put["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"
    assert "ReturnValuesOnConditionCheckFailure" not in delete


async def test_put_returns_the_item_as_it_will_be_stored() -> None:
    tx = fake_db(FakeTransport()).transaction()
    stored = tx.put(Wallet(wallet_id="w"))
    assert stored.version == 1


async def test_every_commit_carries_a_client_request_token() -> None:
    transport = FakeTransport()
    tx = fake_db(transport).transaction()
    tx.put(Note(note_id="a"))
    await tx.commit()
    assert transport.calls[0].params["ClientRequestToken"] == tx.token


async def test_a_caller_token_is_sent_as_given() -> None:
    transport = FakeTransport()
    async with fake_db(transport).transaction(token="order-42-capture") as tx:
        tx.put(Note(note_id="a"))
    assert transport.calls[0].params["ClientRequestToken"] == "order-42-capture"


async def test_a_retried_commit_resends_the_same_token() -> None:
    transport = FakeTransport(script=[InternalServerError("boom"), {}])
    async with fake_db(transport).transaction() as tx:
        tx.put(Note(note_id="a"))
    first, second = transport.calls
    assert first.params == second.params
    assert first.params["ClientRequestToken"] == tx.token


async def test_commit_again_after_an_unanswered_failure_reuses_the_token() -> None:
    transport = FakeTransport(script=[InternalServerError("down")] * 4 + [{}])
    tx = fake_db(transport).transaction()
    tx.put(Note(note_id="a"))
    with pytest.raises(InternalServerError):
        await tx.commit()
    await tx.commit()
    assert {c.params["ClientRequestToken"] for c in transport.calls} == {tx.token}


def test_a_token_longer_than_36_characters_is_refused() -> None:
    with pytest.raises(UsageError, match="36"):
        fake_db(FakeTransport()).transaction(token="x" * 37)


async def test_an_exception_in_the_block_commits_nothing() -> None:
    transport = FakeTransport()

    async def change_mind() -> None:
        async with fake_db(transport).transaction() as tx:
            tx.put(Note(note_id="a"))
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError):
        await change_mind()
    assert transport.calls == []


async def test_a_committed_transaction_cannot_be_reused() -> None:
    tx = fake_db(FakeTransport()).transaction()
    tx.put(Note(note_id="a"))
    await tx.commit()
    with pytest.raises(UsageError):
        await tx.commit()
    with pytest.raises(UsageError):
        tx.put(Note(note_id="b"))


async def test_an_empty_transaction_is_refused() -> None:
    with pytest.raises(UsageError, match="at least one"):
        await fake_db(FakeTransport()).transaction().commit()


def test_the_101st_action_is_refused() -> None:
    tx = fake_db(FakeTransport()).transaction()
    for i in range(100):
        tx.delete(Note, f"n{i}")
    with pytest.raises(RequestLimitError, match="100"):
        tx.delete(Note, "n100")


def test_two_actions_on_one_item_are_refused() -> None:
    tx = fake_db(FakeTransport()).transaction()
    tx.put(Note(note_id="a"))
    with pytest.raises(UsageError, match="combine them"):
        tx.check(Note, "a", condition=attr("count") == 0)


def test_more_than_4_mb_is_refused() -> None:
    tx = fake_db(FakeTransport()).transaction()
    for i in range(10):
        tx.put(Note(note_id=f"n{i}", text="x" * 390_000))
    with pytest.raises(RequestLimitError, match="4 MB"):
        tx.put(Note(note_id="n10", text="x" * 390_000))
    assert len(tx) == 10


async def test_a_stale_version_is_reported_as_a_version_conflict_at_its_index() -> None:
    stored = {"wallet_id": {"S": "w"}, "balance": {"N": "0"}, "version": {"N": "5"}}
    transport = FakeTransport(
        script=[cancelled(OK, CancellationReason("ConditionalCheckFailed", "failed", stored))]
    )
    tx = fake_db(transport).transaction()
    tx.put(Note(note_id="a"))
    tx.update(Wallet(wallet_id="w", version=4), changes=Update().increment("balance", 1))
    with pytest.raises(TransactionFailedError) as caught:
        await tx.commit()
    error = caught.value
    assert error.causes[0] is None
    assert isinstance(error.causes[1], VersionConflictError)
    assert (error.causes[1].expected_version, error.causes[1].actual_version) == (4, 5)
    assert error.failed_actions == (1,)


async def test_an_existing_item_is_reported_for_a_create_only_put() -> None:
    existing = {"note_id": {"S": "a"}}
    transport = FakeTransport(
        script=[cancelled(CancellationReason("ConditionalCheckFailed", "failed", existing))]
    )
    tx = fake_db(transport).transaction()
    tx.put(Note(note_id="a"))
    with pytest.raises(TransactionFailedError) as caught:
        await tx.commit()
    assert isinstance(caught.value.failures[0], ItemAlreadyExistsError)


async def test_other_cancellation_reasons_map_to_typed_errors() -> None:
    transport = FakeTransport(script=[cancelled(CancellationReason("TransactionConflict", "busy"))])
    tx = fake_db(transport).transaction()
    tx.delete(Note, "a")
    with pytest.raises(TransactionCanceledError) as caught:
        await tx.commit()
    assert isinstance(caught.value, TransactionFailedError)
    assert isinstance(caught.value.causes[0], TransactionConflictError)


# -- transact_get ------------------------------------------------------------------------------


async def test_transact_get_returns_models_or_none_in_order() -> None:
    transport = FakeTransport(
        script=[{"Responses": [{}, {"Item": {"note_id": {"S": "b"}, "text": {"S": "hi"}}}]}]
    )
    found = await fake_db(transport).transact_get([Key(Note, "a"), Key(Note, "b")])
    assert found[0] is None and found[1] is not None and found[1].text == "hi"


async def test_transact_get_refuses_more_than_100_keys() -> None:
    with pytest.raises(RequestLimitError):
        await fake_db(FakeTransport()).transact_get([Key(Note, f"n{i}") for i in range(101)])


async def test_transact_get_refuses_duplicate_keys() -> None:
    with pytest.raises(UsageError, match="twice"):
        await fake_db(FakeTransport()).transact_get([Key(Note, "a"), Key(Note, "a")])
