"""The model of ``get_handler`` (importable without running the handler's init)."""

from __future__ import annotations

from typing import Annotated

from asyncdynamo import Model, PartitionKey


class Payment(Model):
    __table__ = "payments"

    payment_id: Annotated[str, PartitionKey]
    amount: int = 0
    currency: str = "EUR"
    tags: set[str] = set()
    meta: dict[str, str] = {}
