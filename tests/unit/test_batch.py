"""Batch get/write: chunking, retries of unprocessed items, and never losing one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from asyncdynamo import (
    ItemTooLargeError,
    Key,
    RetryPolicy,
    ServiceValidationError,
    ThrottlingError,
    UnprocessedItemsError,
    UsageError,
    deadline_scope,
)
from tests.fakes import Call, FakeTransport, fake_db
from tests.integration.query_models import Wallet
from tests.models import Note


def note_item(note_id: str) -> dict[str, Any]:
    return {"note_id": {"S": note_id}, "text": {"S": ""}, "count": {"N": "0"}, "labels": {"L": []}}


def answer_gets(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    keys = params["RequestItems"]["notes"]["Keys"]
    return {"Responses": {"notes": [note_item(k["note_id"]["S"]) for k in keys]}}


def keys_sent(calls: list[Call]) -> list[str]:
    return [k["note_id"]["S"] for c in calls for k in c.params["RequestItems"]["notes"]["Keys"]]


def writes_sent(calls: list[Call]) -> list[dict[str, Any]]:
    return [w for c in calls for w in c.params["RequestItems"]["notes"]]


class NeverSoon(RetryPolicy):
    """A retry policy whose backoff is always far longer than any test deadline."""

    def backoff(self, attempt: int, rng: Any = None) -> float:
        return 3600.0


# -- batch_get ---------------------------------------------------------------------------------


async def test_batch_get_sends_at_most_100_keys_per_request() -> None:
    transport = FakeTransport(handler=answer_gets)
    found = await fake_db(transport).batch_get(Note, [f"n{i}" for i in range(250)])
    assert len(found) == 250
    assert sorted(len(c.params["RequestItems"]["notes"]["Keys"]) for c in transport.calls) == [
        50,
        100,
        100,
    ]


async def test_batch_get_returns_items_in_key_order_without_missing_ones() -> None:
    transport = FakeTransport(script=[{"Responses": {"notes": [note_item("c"), note_item("a")]}}])
    found = await fake_db(transport).batch_get(Note, ["a", "b", "c"])
    assert [n.note_id for n in found] == ["a", "c"]


async def test_batch_get_retries_unprocessed_keys_until_done() -> None:
    transport = FakeTransport(
        script=[
            {
                "Responses": {"notes": [note_item("a")]},
                "UnprocessedKeys": {"notes": {"Keys": [{"note_id": {"S": "b"}}]}},
            }
        ],
        handler=answer_gets,
    )
    found = await fake_db(transport).batch_get(Note, ["a", "b"])
    assert [n.note_id for n in found] == ["a", "b"]
    assert keys_sent(transport.calls) == ["a", "b", "b"]


async def test_batch_get_raises_exactly_the_keys_left_after_every_attempt() -> None:
    stuck = {"notes": {"Keys": [{"note_id": {"S": "b"}}]}}
    transport = FakeTransport(
        handler=lambda op, params: {
            "Responses": {
                "notes": [note_item("a")]
                if len(params["RequestItems"]["notes"]["Keys"]) == 2
                else []
            },
            "UnprocessedKeys": stuck,
        }
    )
    with pytest.raises(UnprocessedItemsError) as caught:
        await fake_db(transport).batch_get(Note, ["a", "b"])
    assert caught.value.unprocessed == {"notes": [{"note_id": {"S": "b"}}]}
    assert caught.value.processed_count == 1
    assert len(transport.calls) == 4  # FAST_RETRY.max_attempts


async def test_batch_get_rejects_duplicate_keys_before_sending() -> None:
    transport = FakeTransport()
    with pytest.raises(UsageError, match="twice"):
        await fake_db(transport).batch_get(Note, ["a", "b", "a"])
    assert transport.calls == []


async def test_batch_get_with_no_keys_sends_nothing() -> None:
    transport = FakeTransport()
    assert await fake_db(transport).batch_get(Note, []) == []
    assert transport.calls == []


async def test_failing_chunks_report_their_keys_as_unprocessed_with_the_cause() -> None:
    transport = FakeTransport(handler=lambda op, params: ThrottlingError("slow down"))
    with pytest.raises(UnprocessedItemsError) as caught:
        await fake_db(transport).batch_get(Note, [f"n{i}" for i in range(150)])
    assert isinstance(caught.value.__cause__, ThrottlingError)
    assert sum(len(keys) for keys in caught.value.unprocessed.values()) == 150
    assert caught.value.processed_count == 0


async def test_one_failing_write_chunk_does_not_hide_what_the_others_wrote() -> None:
    def answer(operation: str, params: dict[str, Any]) -> Any:
        items = params["RequestItems"]["notes"]
        if any(w["PutRequest"]["Item"]["note_id"]["S"] == "n30" for w in items):
            return ServiceValidationError("bad chunk", code="ValidationException")
        return {}

    transport = FakeTransport(handler=answer)
    notes = [Note(note_id=f"n{i}") for i in range(60)]
    with pytest.raises(UnprocessedItemsError) as caught:
        await fake_db(transport).batch_write(puts=notes, concurrency=1)
    left = [w["PutRequest"]["Item"]["note_id"]["S"] for w in caught.value.unprocessed["notes"]]
    assert left == [f"n{i}" for i in range(25, 50)]
    assert caught.value.processed_count == 35
    assert isinstance(caught.value.__cause__, ServiceValidationError)


async def test_batch_get_failure_keeps_the_items_it_did_read() -> None:
    def answer(operation: str, params: dict[str, Any]) -> Any:
        keys = params["RequestItems"]["notes"]["Keys"]
        if len(keys) < 100:  # the second chunk fails, the first succeeds
            return ThrottlingError("slow down")
        return {"Responses": {"notes": [{"note_id": k["note_id"]} for k in keys]}}

    transport = FakeTransport(handler=answer)
    with pytest.raises(UnprocessedItemsError) as caught:
        await fake_db(transport).batch_get(Note, [f"n{i}" for i in range(150)], concurrency=1)
    assert len(caught.value.partial) == 100
    assert caught.value.processed_count == 100


# -- batch_write -------------------------------------------------------------------------------


async def test_batch_write_sends_at_most_25_items_per_request() -> None:
    transport = FakeTransport()
    await fake_db(transport).batch_write(puts=[Note(note_id=f"n{i}") for i in range(60)])
    assert sorted(len(c.params["RequestItems"]["notes"]) for c in transport.calls) == [10, 25, 25]


async def test_batch_write_mixes_puts_and_deletes() -> None:
    transport = FakeTransport()
    await fake_db(transport).batch_write(
        puts=[Note(note_id="a")], deletes=[Key(Note, "b"), Note(note_id="c")]
    )
    kinds = [next(iter(w)) for w in writes_sent(transport.calls)]
    assert kinds == ["PutRequest", "DeleteRequest", "DeleteRequest"]


async def test_batch_write_retries_unprocessed_items_and_loses_none() -> None:
    leftover = {"PutRequest": {"Item": note_item("b")}}
    transport = FakeTransport(script=[{"UnprocessedItems": {"notes": [leftover]}}, {}])
    await fake_db(transport).batch_write(puts=[Note(note_id="a"), Note(note_id="b")])
    assert transport.calls[1].params["RequestItems"] == {"notes": [leftover]}


async def test_batch_write_raises_exactly_the_items_left_after_every_attempt() -> None:
    leftover = {"DeleteRequest": {"Key": {"note_id": {"S": "b"}}}}
    transport = FakeTransport(
        handler=lambda op, params: {"UnprocessedItems": {"notes": [leftover]}}
    )
    with pytest.raises(UnprocessedItemsError) as caught:
        await fake_db(transport).batch_write(deletes=[Key(Note, "a"), Key(Note, "b")])
    assert caught.value.unprocessed == {"notes": [leftover]}
    assert caught.value.processed_count == 1


async def test_batch_write_gives_up_instead_of_sleeping_past_the_deadline() -> None:
    leftover = {"DeleteRequest": {"Key": {"note_id": {"S": "a"}}}}
    transport = FakeTransport(
        handler=lambda op, params: {"UnprocessedItems": {"notes": [leftover]}}
    )
    db = fake_db(transport, retry=NeverSoon())
    with (
        deadline_scope(asyncio.get_running_loop().time() + 60),
        pytest.raises(UnprocessedItemsError),
    ):
        await db.batch_write(deletes=[Key(Note, "a")])
    assert len(transport.calls) == 1


async def test_batch_write_rejects_the_same_item_twice() -> None:
    transport = FakeTransport()
    with pytest.raises(UsageError, match="twice"):
        await fake_db(transport).batch_write(puts=[Note(note_id="a")], deletes=[Key(Note, "a")])
    assert transport.calls == []


async def test_batch_write_checks_item_size_before_sending() -> None:
    transport = FakeTransport()
    with pytest.raises(ItemTooLargeError):
        await fake_db(transport).batch_write(puts=[Note(note_id="a", text="x" * 500_000)])
    assert transport.calls == []


async def test_batch_write_refuses_versioned_models_by_default() -> None:
    transport = FakeTransport()
    with pytest.raises(UsageError, match="versioned"):
        await fake_db(transport).batch_write(puts=[Wallet(wallet_id="w")])
    with pytest.raises(UsageError, match="versioned"):
        await fake_db(transport).batch_write(deletes=[Key(Wallet, "w")])
    assert transport.calls == []


async def test_batch_write_can_write_versioned_models_blindly_when_asked() -> None:
    transport = FakeTransport()
    stored = await fake_db(transport).batch_write(
        puts=[Wallet(wallet_id="w", version=3)], skip_version_check=True
    )
    assert stored == [Wallet(wallet_id="w", version=4)]


async def test_batch_write_groups_several_tables_in_one_request() -> None:
    transport = FakeTransport()
    await fake_db(transport).batch_write(
        puts=[Note(note_id="a"), Wallet(wallet_id="w")], skip_version_check=True
    )
    assert len(transport.calls) == 1
    assert set(transport.calls[0].params["RequestItems"]) == {"notes", "wallets"}


async def test_batch_concurrency_must_be_positive() -> None:
    with pytest.raises(UsageError, match="concurrency"):
        await fake_db(FakeTransport()).batch_get(Note, ["a"], concurrency=0)
