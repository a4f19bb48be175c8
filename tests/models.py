"""Models shared by the tests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel

from asyncdynamo import (
    TTL,
    Attr,
    CreatedAt,
    GlobalIndex,
    KeyRole,
    LocalIndex,
    Model,
    OmitEmpty,
    PartitionKey,
    SortKey,
    UpdatedAt,
    Version,
)


class Tier(StrEnum):
    FREE = "free"
    GOLD = "gold"


class Account(Model):
    """Versioned, with lifecycle timestamps, TTL, a set and an omit-empty field."""

    __table__ = "accounts"

    account_id: Annotated[str, PartitionKey]
    owner: str
    balance: int = 0
    tier: Tier = Tier.FREE
    tags: set[str] = set()
    nickname: Annotated[str | None, OmitEmpty] = None
    expires_at: Annotated[datetime | None, TTL] = None
    created_at: Annotated[datetime | None, CreatedAt] = None
    updated_at: Annotated[datetime | None, UpdatedAt] = None
    version: Annotated[int, Version] = 0


class Line(BaseModel):
    sku: str
    quantity: int
    price: Decimal


class Order(Model):
    """Partition + sort key, a global and a local index, a custom attribute name."""

    __table__ = "orders"

    customer_id: Annotated[str, PartitionKey]
    order_id: Annotated[str, SortKey]
    status: Annotated[str, GlobalIndex("by_status")]
    placed_at: Annotated[
        datetime, GlobalIndex("by_status", role=KeyRole.SORT), LocalIndex("by_placed")
    ]
    total: Annotated[Decimal, Attr("amt")]
    lines: list[Line] = []
    note: str | None = None
    reference: UUID | None = None
    blob: bytes | None = None


class Note(Model):
    """Unversioned, no timestamps: the plainest model."""

    __table__ = "notes"

    note_id: Annotated[str, PartitionKey]
    text: str = ""
    count: int = 0
    labels: list[str] = []
