"""A merchant's customers (table ``customers``, index ``by_merchant``).

The processor never reads this table, so the process handler's cold path never builds the model.
"""

from __future__ import annotations

from typing import Annotated

from asyncdynamo import GlobalIndex, OmitEmpty, PartitionKey

from ._card import StoredModel

__all__ = ["Customer"]


class Customer(StoredModel):
    """A merchant's customer (payments refer to it by ``customer_id``)."""

    __table__ = "customers"

    customer_id: Annotated[str, PartitionKey]
    merchant_id: Annotated[str, GlobalIndex("by_merchant")]
    name: str = ""
    email: Annotated[str | None, OmitEmpty] = None
