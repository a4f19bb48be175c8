"""Correctness review: aliases in nested models, number keys as DynamoDB normalises them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from asyncdynamo import InvalidKeyError, Key, Update, UsageError, spec_of
from asyncdynamo._expr import Placeholders
from asyncdynamo._item import from_item, to_item
from asyncdynamo._update import render_update
from tests.fakes import FakeTransport, fake_db
from tests.integration.review_models import Customer, Price, Ticket


def _customer() -> Customer:
    return Customer.model_validate(
        {
            "customerId": "c1",
            "homeAddress": {"postalCode": "1011"},
            "addresses": [{"postalCode": "2022"}],
        }
    )


def test_a_nested_model_with_aliases_reads_back_as_it_was_put() -> None:
    spec = spec_of(Customer)
    customer = _customer()
    assert from_item(spec, to_item(spec, customer)) == customer


def test_update_stores_a_nested_model_in_the_shape_put_stores_it() -> None:
    spec = spec_of(Customer)
    customer = _customer()
    ph = Placeholders(spec=spec)
    render_update(Update().set("home_address", customer.home_address), ph)
    (value,) = ph.values.values()
    assert value == to_item(spec, customer)["home_address"]


def _answer_price_gets(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB answers with the stored (normalised) number, whatever text the request used.
    keys = params["RequestItems"]["review_prices"]["Keys"]
    items = [
        {"amount": {"N": str(Decimal(k["amount"]["N"]).normalize())}, "label": {"S": "x"}}
        for k in keys
    ]
    return {"Responses": {"review_prices": items}}


async def test_batch_get_finds_items_whose_number_key_was_written_differently() -> None:
    transport = FakeTransport(handler=_answer_price_gets)
    found = await fake_db(transport).batch_get(Price, [Decimal("1.0"), Decimal("2.50")])
    assert [p.amount for p in found] == [1, Decimal("2.5")]


async def test_batch_get_rejects_one_number_key_written_two_ways() -> None:
    transport = FakeTransport(handler=_answer_price_gets)
    with pytest.raises(UsageError):
        await fake_db(transport).batch_get(Price, [1, Decimal("1.0")])
    assert transport.calls == []


def test_a_transaction_rejects_two_actions_on_one_number_key_written_two_ways() -> None:
    tx = fake_db(FakeTransport()).transaction()
    tx.update(Price, 1, changes=Update().set("label", "a"))
    with pytest.raises(UsageError):
        tx.delete(Price, Decimal("1.00"))


async def test_transact_get_rejects_one_number_key_written_two_ways() -> None:
    transport = FakeTransport()
    with pytest.raises(UsageError):
        await fake_db(transport).transact_get([Key(Price, 10), Key(Price, Decimal("1E+1"))])
    assert transport.calls == []


def test_an_empty_string_index_key_is_refused_before_sending() -> None:
    # DynamoDB rejects an empty string as a secondary-index key value (ValidationException).
    with pytest.raises(InvalidKeyError):
        to_item(spec_of(Ticket), Ticket(ticket_id="t1", queue=""))


def test_updating_an_index_key_to_an_empty_string_is_refused_before_sending() -> None:
    with pytest.raises(InvalidKeyError):
        render_update(Update().set("queue", ""), Placeholders(spec=spec_of(Ticket)))
