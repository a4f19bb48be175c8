"""Models for the query, scan, batch and transaction integration tests."""

from __future__ import annotations

from typing import Annotated, Any

from asyncdynamo import (
    GlobalIndex,
    KeyRole,
    Model,
    OmitEmpty,
    PartitionKey,
    Projection,
    SortKey,
    Version,
)


class Event(Model):
    """Partition + numeric sort key, a KEYS_ONLY and an INCLUDE global index."""

    __table__ = "events"

    stream: Annotated[str, PartitionKey]
    seq: Annotated[int, SortKey]
    kind: Annotated[
        str,
        GlobalIndex("by_kind", projection=Projection.KEYS_ONLY),
        GlobalIndex("by_kind_weight", projection=Projection.INCLUDE, include=("weight",)),
    ]
    weight: Annotated[int, GlobalIndex("by_kind_weight", role=KeyRole.SORT)] = 0
    label: str = ""
    tags: set[str] = set()
    attrs: dict[str, Any] = {}
    parts: list[str] = []
    note: Annotated[str | None, OmitEmpty] = None


class Wallet(Model):
    """Versioned, partition key only."""

    __table__ = "wallets"

    wallet_id: Annotated[str, PartitionKey]
    balance: int = 0
    version: Annotated[int, Version] = 0
