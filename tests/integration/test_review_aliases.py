"""Review: nested models with aliases and index keys survive put, update and get (moto)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from asyncdynamo import DB, InvalidKeyError, Update, attr
from tests.integration.review_models import Address, Customer, Ticket

MakeTables = Callable[..., Awaitable[list[str]]]


@pytest.fixture
async def tables(make_tables: MakeTables) -> None:
    await make_tables(Customer, Ticket)


@pytest.mark.usefixtures("tables")
async def test_nested_aliased_models_round_trip_through_put_update_and_get(db: DB) -> None:
    stored = await db.put(
        Customer.model_validate(
            {"customerId": "c1", "homeAddress": {"postalCode": "1011"}, "addresses": []}
        )
    )
    assert await db.get(Customer, "c1", consistent=True) == stored
    moved = Address.model_validate({"postalCode": "2022"})
    updated = await db.update(
        Customer,
        "c1",
        changes=Update().set("home_address", moved).append("addresses", [moved]),
    )
    assert (updated.home_address, updated.addresses) == (moved, [moved])
    assert await db.get(Customer, "c1", consistent=True) == updated


@pytest.mark.usefixtures("tables")
async def test_an_empty_index_key_fails_before_sending_and_none_leaves_the_index(db: DB) -> None:
    with pytest.raises(InvalidKeyError):
        await db.put(Ticket(ticket_id="t1", queue=""))
    await db.put(Ticket(ticket_id="t1", queue=None))
    with pytest.raises(InvalidKeyError):
        await db.update(Ticket, "t1", changes=Update().set("queue", ""))
    assert await db.query(Ticket).where(attr("queue") == "q").all() == []
