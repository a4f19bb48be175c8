"""Models that store no write token (``__write_token__ = False``, the Compat.DYNAMORM default).

Their items hold exactly what a DynamORM writer stores, so a lost answer resolves without a
token: a guarded write is sent again and succeeds only if that resend applies; anything else is
WriteOutcomeUnknownError, never a conflict for our own write and never a second application.
"""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from asyncdynamo import (
    Compat,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    ItemAlreadyExistsError,
    Model,
    ModelDeclarationError,
    PartitionKey,
    Update,
    Version,
    VersionConflictError,
    WriteOutcomeUnknownError,
    spec_of,
)
from asyncdynamo._error_table import error_from_service
from asyncdynamo._outcome import WRITE_TOKEN_ATTRIBUTE
from tests.fakes import FakeTransport, fake_db


class GoWallet(Model):
    __table__ = "wallets"
    __compat__ = Compat.DYNAMORM
    wallet_id: Annotated[str, PartitionKey]
    balance: int = 0
    version: Annotated[int, Version] = 0


class GoWalletWithToken(GoWallet):
    __write_token__ = True


class QuietNote(Model):
    __table__ = "notes"
    __write_token__ = False
    note_id: Annotated[str, PartitionKey]
    count: int = 0


def lost() -> ConnectionFailedError:
    return ConnectionFailedError("reset after sending")


def condition_failed(item: dict[str, Any], operation: str) -> ConditionalCheckFailedError:
    error = error_from_service(
        "ConditionalCheckFailedException",
        "failed",
        operation=operation,
        status=400,
        body={"Item": item},
    )
    assert isinstance(error, ConditionalCheckFailedError)
    return error


def stored_wallet(version: int, balance: int = 400) -> dict[str, Any]:
    return {
        "wallet_id": {"S": "w1"},
        "balance": {"N": str(balance)},
        "version": {"N": str(version)},
    }


def carries_token(params: dict[str, Any]) -> bool:
    if "Item" in params:
        return WRITE_TOKEN_ATTRIBUTE in params["Item"]
    return WRITE_TOKEN_ATTRIBUTE in params.get("ExpressionAttributeNames", {}).values()


def test_the_write_token_defaults_follow_the_compat_mode() -> None:
    assert spec_of(GoWallet).marks_writes is False
    assert spec_of(GoWalletWithToken).marks_writes is True
    assert spec_of(QuietNote).marks_writes is False


def test_write_token_must_be_a_bool() -> None:
    with pytest.raises(ModelDeclarationError, match="__write_token__"):

        class Odd(Model):
            __table__ = "odd"
            __write_token__ = "no"
            odd_id: Annotated[str, PartitionKey]


async def test_a_dynamorm_model_writes_exactly_its_fields() -> None:
    transport = FakeTransport(handler=lambda op, params: {"Attributes": stored_wallet(1)})
    db = fake_db(transport)
    await db.put(GoWallet(wallet_id="w1", balance=500))
    await db.update(GoWallet(wallet_id="w1"), changes=Update().set("balance", 400))
    await db.put(QuietNote(note_id="n1"))
    put, update, note = (call.params for call in transport.calls)
    assert put["Item"] == {"wallet_id": {"S": "w1"}, "balance": {"N": "500"}, "version": {"N": "0"}}
    assert "adw" not in update["UpdateExpression"]
    assert not any(carries_token(params) for params in (put, update, note))


async def test_a_dynamorm_model_may_opt_in_to_the_token() -> None:
    transport = FakeTransport(handler=lambda op, params: {})
    await fake_db(transport).put(GoWalletWithToken(wallet_id="w1"))
    assert carries_token(transport.calls[0].params)


async def test_a_guarded_update_is_resent_and_succeeds_when_the_resend_applies() -> None:
    transport = FakeTransport([lost(), {"Attributes": stored_wallet(1)}])
    db = fake_db(transport)
    updated = await db.update(GoWallet(wallet_id="w1"), changes=Update().set("balance", 400))
    assert (updated.balance, updated.version) == (400, 1)
    assert transport.operations() == ["UpdateItem", "UpdateItem"]
    assert transport.calls[0].params == transport.calls[1].params  # sent again unchanged


async def test_a_guarded_update_whose_resend_fails_its_condition_is_unknown() -> None:
    # Version 1 is stored: our update may have stored it, or a concurrent writer did.
    transport = FakeTransport([lost(), condition_failed(stored_wallet(1), "UpdateItem")])
    db = fake_db(transport)
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await db.update(GoWallet(wallet_id="w1"), changes=Update().set("balance", 400))
    assert not isinstance(raised.value, VersionConflictError)
    assert "no write token" in str(raised.value)
    assert raised.value.item == stored_wallet(1)
    assert transport.operations() == ["UpdateItem", "UpdateItem"]


async def test_a_create_whose_resend_applies_succeeds() -> None:
    transport = FakeTransport([lost(), {}])
    stored = await fake_db(transport).put(GoWallet(wallet_id="w1", balance=500))
    assert stored.version == 0
    assert transport.operations() == ["PutItem", "PutItem"]


async def test_a_create_whose_resend_finds_the_item_is_unknown_not_already_exists() -> None:
    found = condition_failed(stored_wallet(0, balance=500), "PutItem")
    transport = FakeTransport([lost(), found])
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await fake_db(transport).put(GoWallet(wallet_id="w1", balance=500))
    assert not isinstance(raised.value, ItemAlreadyExistsError)
    assert transport.operations() == ["PutItem", "PutItem"]


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda db: db.put(
                GoWallet(wallet_id="w1", version=3), overwrite=True, skip_version_check=True
            ),
            id="blind put",
        ),
        pytest.param(
            lambda db: db.update(
                GoWallet, "w1", changes=Update().add("balance", 5), skip_version_check=True
            ),
            id="unversioned update (ADD)",
        ),
        pytest.param(
            lambda db: db.put(QuietNote(note_id="n1"), overwrite=True), id="native overwrite"
        ),
    ],
)
async def test_an_unguarded_write_is_unknown_at_once(write: Any) -> None:
    # Neither resent (it could apply twice) nor read back (no read can prove it was ours).
    transport = FakeTransport([lost(), {}])
    db = fake_db(transport)
    with pytest.raises(WriteOutcomeUnknownError) as raised:
        await write(db)
    assert len(transport.calls) == 1
    assert isinstance(raised.value.cause, ConnectionFailedError)
