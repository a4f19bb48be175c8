"""Models for the correctness-review tests (aliases, number keys, index keys)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from asyncdynamo import GlobalIndex, Model, PartitionKey


class Address(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel)

    postal_code: str


class Customer(Model):
    """camelCase aliases on the model and on a nested model (a common API-facing setup)."""

    __table__ = "review_customers"
    model_config = ConfigDict(alias_generator=to_camel)

    customer_id: Annotated[str, PartitionKey]
    home_address: Address
    addresses: list[Address] = []


class Price(Model):
    """A number partition key (DynamoDB stores numbers normalised: 1.0 is 1)."""

    __table__ = "review_prices"

    amount: Annotated[Decimal, PartitionKey]
    label: str = ""


class Ticket(Model):
    """A string global-index key."""

    __table__ = "review_tickets"

    ticket_id: Annotated[str, PartitionKey]
    queue: Annotated[str | None, GlobalIndex("by_queue")] = None
