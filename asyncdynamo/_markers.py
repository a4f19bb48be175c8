"""``Annotated`` markers that declare a field's role in the table.

```python
class Payment(Model):
    __table__ = "payments"
    payment_id: Annotated[str, PartitionKey]
    customer_id: Annotated[str, GlobalIndex("by_customer")]
    created_at: Annotated[datetime | None, CreatedAt] = None
    version: Annotated[int, Version] = 0
```
A marker may be written as the class (``PartitionKey``) or an instance (``PartitionKey()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from ._record import FrozenRecord, frozen, setfield

__all__ = [
    "TTL",
    "Attr",
    "CreatedAt",
    "Encrypted",
    "GlobalIndex",
    "JsonBlob",
    "KeyRole",
    "LocalIndex",
    "Marker",
    "OmitEmpty",
    "PartitionKey",
    "Projection",
    "SortKey",
    "UpdatedAt",
    "Version",
]


class KeyRole(StrEnum):
    """The role a field plays in an index's key."""

    PARTITION = "HASH"
    SORT = "RANGE"


class Projection(StrEnum):
    """Which attributes an index copies."""

    ALL = "ALL"
    KEYS_ONLY = "KEYS_ONLY"
    INCLUDE = "INCLUDE"


class Marker:
    """Base of all field markers.

    Markers without parameters are plain immutable classes (all instances equal); the ones with
    parameters are frozen records (``asyncdynamo._record``), not dataclasses: this module is on
    every Lambda cold start, where building a dataclass costs most of a millisecond.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PartitionKey(Marker):
    """The table's partition (hash) key."""

    __slots__ = ()


class SortKey(Marker):
    """The table's sort (range) key."""

    __slots__ = ()


@frozen
class GlobalIndex(FrozenRecord, Marker):
    """Membership in a global secondary index.

    Args:
        name: the index name.
        role: partition (default) or sort key of that index.
        projection: which attributes the index holds; declare it on the partition-key field.
        include: with ``Projection.INCLUDE``, the extra attributes (python field names).
    """

    __slots__ = ("include", "name", "projection", "role")
    name: str
    role: KeyRole
    projection: Projection
    include: Sequence[str]

    def __init__(
        self,
        name: str,
        role: KeyRole = KeyRole.PARTITION,
        projection: Projection = Projection.ALL,
        include: Sequence[str] = (),
    ) -> None:
        setfield(self, "name", name)
        setfield(self, "role", role)
        setfield(self, "projection", projection)
        setfield(self, "include", include)


@frozen
class LocalIndex(FrozenRecord, Marker):
    """The sort key of a local secondary index (its partition key is the table's)."""

    __slots__ = ("include", "name", "projection")
    name: str
    projection: Projection
    include: Sequence[str]

    def __init__(
        self, name: str, projection: Projection = Projection.ALL, include: Sequence[str] = ()
    ) -> None:
        setfield(self, "name", name)
        setfield(self, "projection", projection)
        setfield(self, "include", include)


class Version(Marker):
    """An ``int`` field used for optimistic locking: every write checks and bumps it."""

    __slots__ = ()


class TTL(Marker):
    """A ``datetime`` (or ``int`` epoch seconds) field stored as epoch seconds for DynamoDB TTL."""

    __slots__ = ()


class CreatedAt(Marker):
    """A ``datetime`` field set once, when the item is first written."""

    __slots__ = ()


class UpdatedAt(Marker):
    """A ``datetime`` field set on every write."""

    __slots__ = ()


class Encrypted(Marker):
    """A field whose value is envelope-encrypted before it is stored (see ``payments``)."""

    __slots__ = ()


class JsonBlob(Marker):
    """Store the value as one JSON string (``S``): compact, object keys sorted, ``None`` as NULL.

    For free-form documents shared with services that store them as JSON text (DynamORM's
    ``json: true``). The stored text is deterministic, so equality conditions on it work.
    """

    __slots__ = ()


class OmitEmpty(Marker):
    """Leave the attribute out of the item when the value is ``None``, ``""`` or empty."""

    __slots__ = ()


@frozen
class Attr(FrozenRecord, Marker):
    """Store the field under another attribute name (e.g. a short or generic name)."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        setfield(self, "name", name)
