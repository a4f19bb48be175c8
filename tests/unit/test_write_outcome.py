"""Which failures the client retries, and how a DB write whose answer was lost is resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest

from asyncdynamo import (
    Attr,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    InternalServerError,
    Model,
    ModelDeclarationError,
    PartitionKey,
    RequestTimeoutError,
    RetryPolicy,
    ThrottlingError,
    Update,
    VersionConflictError,
    WriteOutcomeUnknownError,
)
from asyncdynamo._client import Client
from asyncdynamo._error_table import error_from_service
from asyncdynamo._outcome import WRITE_TOKEN_ATTRIBUTE
from tests.fakes import FakeTransport, fake_db
from tests.models import Account, Note

POLICY = RetryPolicy(max_attempts=4, base=0.0001, cap=0.0002)
PUT = {"TableName": "t", "Item": {"pk": {"S": "k"}}}


def lost() -> ConnectionFailedError:
    return ConnectionFailedError("reset after sending")


def server_error() -> InternalServerError:
    return InternalServerError("oops", code="InternalServerError", status=500)


def timed_out() -> RequestTimeoutError:
    return RequestTimeoutError("no answer within read_timeout")


@pytest.mark.parametrize("operation", ["PutItem", "UpdateItem", "DeleteItem"])
@pytest.mark.parametrize("error", [lost, server_error, timed_out])
async def test_a_possibly_applied_single_item_write_is_not_retried(
    operation: str, error: Callable[[], Exception]
) -> None:
    failure = error()
    transport = FakeTransport([failure, {}])
    client = Client(transport, POLICY)
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await client.call(operation, PUT)
    assert transport.operations() == [operation]
    assert raised.value.cause is failure
    assert raised.value.__cause__ is failure


async def test_a_write_that_was_certainly_not_sent_is_retried() -> None:
    transport = FakeTransport([ConnectionFailedError("refused", request_sent=False), {}])
    assert await Client(transport, POLICY).call("PutItem", PUT) == {}
    assert transport.operations() == ["PutItem", "PutItem"]


async def test_a_throttled_write_is_retried() -> None:
    transport = FakeTransport([ThrottlingError("slow down"), {}])
    await Client(transport, POLICY).call("UpdateItem", PUT)
    assert len(transport.calls) == 2


@pytest.mark.parametrize("operation", ["GetItem", "Query", "BatchWriteItem", "DescribeTable"])
async def test_repeatable_operations_are_retried_after_a_lost_answer(operation: str) -> None:
    transport = FakeTransport([lost(), server_error(), {}])
    await Client(transport, POLICY).call(operation, {"TableName": "t"})
    assert len(transport.calls) == 3


async def test_a_transaction_is_retried_only_with_its_request_token() -> None:
    with_token = FakeTransport([lost(), {}])
    await Client(with_token, POLICY).call(
        "TransactWriteItems", {"TransactItems": [], "ClientRequestToken": "tok"}
    )
    without = FakeTransport([lost(), {}])
    with pytest.raises(WriteOutcomeUnknownError):
        await Client(without, POLICY).call("TransactWriteItems", {"TransactItems": []})
    assert (len(with_token.calls), len(without.calls)) == (2, 1)


def stored_account(version: int, token: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "account_id": {"S": "a1"},
        "owner": {"S": "ann"},
        "balance": {"N": "400"},
        "version": {"N": str(version)},
    }
    if token is not None:
        item[WRITE_TOKEN_ATTRIBUTE] = {"S": token}
    return item


def condition_failed(item: dict[str, Any]) -> ConditionalCheckFailedError:
    """The error a transport raises for a failed condition that returned the stored item."""
    error = error_from_service(
        "ConditionalCheckFailedException",
        "failed",
        operation="UpdateItem",
        status=400,
        body={"Item": item},
    )
    assert isinstance(error, ConditionalCheckFailedError)
    return error


def sent_token(transport: FakeTransport) -> str:
    values = transport.calls[0].params["ExpressionAttributeValues"]
    token: str = values[":adw"]["S"]
    return token


async def test_every_put_and_update_carries_a_fresh_write_token() -> None:
    transport = FakeTransport(handler=lambda op, params: {"Attributes": stored_account(2, "x")})
    db = fake_db(transport)
    account = Account(account_id="a1", owner="ann", version=1)
    await db.update(account, changes=Update().set("owner", "bob"))
    await db.update(account, changes=Update().set("owner", "bob"))
    await db.put(Note(note_id="n1"))
    first, second = (call.params for call in transport.calls[:2])
    assert first["UpdateExpression"].startswith("SET #adw = :adw, ")
    assert first["ExpressionAttributeValues"][":adw"] != second["ExpressionAttributeValues"][":adw"]
    assert WRITE_TOKEN_ATTRIBUTE in transport.calls[2].params["Item"]


async def test_a_resend_that_finds_our_token_returns_the_stored_item() -> None:
    transport = FakeTransport([lost()])
    transport.handler = lambda op, params: condition_failed(
        stored_account(2, sent_token(transport))
    )
    db = fake_db(transport)
    account = Account(account_id="a1", owner="ann", balance=500, version=1)
    updated = await db.update(account, changes=Update().increment("balance", -100))
    assert (updated.balance, updated.version) == (400, 2)
    assert transport.operations() == ["UpdateItem", "UpdateItem"]


async def test_a_resend_that_finds_another_writers_item_is_unknown_not_a_conflict() -> None:
    foreign = stored_account(2, "someone-else")
    db = fake_db(FakeTransport([lost(), condition_failed(foreign)]))
    account = Account(account_id="a1", owner="ann", balance=500, version=1)
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await db.update(account, changes=Update().increment("balance", -100))
    assert not isinstance(raised.value, VersionConflictError)
    assert raised.value.item == foreign
    assert raised.value.key == {"account_id": {"S": "a1"}}


async def test_resends_that_keep_losing_their_answer_end_unknown_within_the_policy() -> None:
    transport = FakeTransport(handler=lambda op, params: lost())
    db = fake_db(transport, retry=POLICY)
    account = Account(account_id="a1", owner="ann", version=1)
    with pytest.raises(WriteOutcomeUnknownError):
        await db.update(account, changes=Update().set("owner", "bob"))
    assert transport.operations() == ["UpdateItem"] * POLICY.max_attempts


async def test_an_unguarded_update_is_read_back_not_resent() -> None:
    transport = FakeTransport([lost(), {"Item": {"note_id": {"S": "n1"}, "count": {"N": "5"}}}])
    db = fake_db(transport)
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await db.update(Note, "n1", changes=Update().add("count", 5))
    assert transport.operations() == ["UpdateItem", "GetItem"]
    assert transport.calls[1].params["ConsistentRead"] is True
    assert raised.value.item == {"note_id": {"S": "n1"}, "count": {"N": "5"}}


async def test_a_failed_read_back_is_unknown_with_the_read_error_as_context() -> None:
    denied = ConditionalCheckFailedError("not really", operation="GetItem")
    db = fake_db(FakeTransport([lost(), denied]))
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await db.update(Note, "n1", changes=Update().add("count", 5))
    assert raised.value.__cause__ is denied
    assert isinstance(raised.value.cause, ConnectionFailedError)


async def test_a_delete_whose_resend_deletes_nothing_is_unknown() -> None:
    db = fake_db(FakeTransport([lost(), {}]))
    with pytest.raises(WriteOutcomeUnknownError):
        await db.delete(Note, "n1")


def test_a_field_cannot_be_stored_in_the_write_token_attribute() -> None:
    with pytest.raises(ModelDeclarationError, match="write token"):

        class Clash(Model):
            __table__ = "clash"

            clash_id: Annotated[str, PartitionKey]
            marker: Annotated[str, Attr(WRITE_TOKEN_ATTRIBUTE)] = ""
