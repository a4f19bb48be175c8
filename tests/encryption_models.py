"""Models with Encrypted fields, shared by the encryption tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, SecretBytes, SecretStr

from asyncdynamo import Encrypted, GlobalIndex, Model, PartitionKey, SortKey


class Brand(StrEnum):
    VISA = "visa"
    AMEX = "amex"


class Address(BaseModel):
    street: str
    zip: str


class Vault(Model):
    """One Encrypted field per supported kind of value, under a number sort key."""

    __table__ = "vault"

    owner: Annotated[str, PartitionKey]
    seq: Annotated[Decimal, SortKey]
    text: Annotated[str | None, Encrypted] = None
    number: Annotated[int | None, Encrypted] = None
    amount: Annotated[Decimal | None, Encrypted] = None
    ratio: Annotated[float | None, Encrypted] = None
    flag: Annotated[bool | None, Encrypted] = None
    raw: Annotated[bytes | None, Encrypted] = None
    when: Annotated[datetime | None, Encrypted] = None
    day: Annotated[date | None, Encrypted] = None
    ident: Annotated[UUID | None, Encrypted] = None
    brand: Annotated[Brand | None, Encrypted] = None
    words: Annotated[list[str] | None, Encrypted] = None
    mapping: Annotated[dict[str, int] | None, Encrypted] = None
    tags: Annotated[set[str], Encrypted] = set()
    codes: Annotated[set[int], Encrypted] = set()
    blobs: Annotated[set[bytes], Encrypted] = set()
    address: Annotated[Address | None, Encrypted] = None
    secret: Annotated[SecretStr | None, Encrypted] = None
    secret_bytes: Annotated[SecretBytes | None, Encrypted] = None
    note: str = ""


class Card(Model):
    """A card with two encrypted strings of the same shape (to swap them) and a clear index."""

    __table__ = "cards"

    card_id: Annotated[str, PartitionKey]
    pan: Annotated[str, Encrypted]
    holder: Annotated[str, Encrypted]
    cvv: Annotated[SecretStr | None, Encrypted] = None
    customer: Annotated[str, GlobalIndex("by_customer")] = "c1"
    last4: str = ""


class OtherCard(Card):
    """The same shape as Card, in another table."""

    __table__ = "other_cards"


def full_vault(owner: str = "o1", seq: Decimal = Decimal("1.50")) -> Vault:
    return Vault(
        owner=owner,
        seq=seq,
        text="héllo ✓",
        number=-(2**62),
        amount=Decimal("12345.678900"),
        ratio=0.25,
        flag=False,
        raw=b"\x00\xff\x10",
        when=datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
        day=date(2026, 2, 28),
        ident=UUID("12345678-1234-5678-1234-567812345678"),
        brand=Brand.AMEX,
        words=["a", "", "c"],
        mapping={"x": 1, "y": -2},
        tags={"red", "blue"},
        codes={1, 2, 3},
        blobs={b"\x00", b"\x01\x02"},
        address=Address(street="1 Main St", zip="02139"),
        secret=SecretStr("s3cr3t"),
        secret_bytes=SecretBytes(b"\x01s3cr3t"),
        note="clear",
    )
