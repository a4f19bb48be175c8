"""The frozen description of a model's table, computed once per class (by ``_declare``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from ._compat import Compat
from ._errors import ModelDeclarationError
from ._record import FrozenRecord, frozen, setfield

if TYPE_CHECKING:
    from ._markers import Projection

WRITE_TOKEN_ATTRIBUTE = "_adw"
"""The attribute holding the token of the last ``put``/``update`` applied to an item (reserved)."""

__all__ = [
    "WRITE_TOKEN_ATTRIBUTE",
    "FieldCodec",
    "FieldSpec",
    "IndexKind",
    "IndexSpec",
    "TableNameResolver",
    "TableSpec",
    "ValueKind",
]


class ValueKind(StrEnum):
    """What a field's values look like in DynamoDB (key types are S, N or B)."""

    STRING = "S"
    NUMBER = "N"
    BINARY = "B"
    BOOL = "BOOL"
    SET = "SET"
    LIST = "L"
    MAP = "M"
    ANY = "ANY"


class IndexKind(StrEnum):
    GLOBAL = "GLOBAL"
    LOCAL = "LOCAL"


class FieldCodec(Protocol):
    """A field's own encoding, replacing the default one (see ``asyncdynamo._dms``).

    ``encode`` returns the AttributeValue to store, or ``None`` to leave the attribute out;
    ``decode`` turns a stored AttributeValue into what the model field validates.
    """

    def encode(self, value: Any) -> dict[str, Any] | None: ...

    def decode(self, value: Mapping[str, Any]) -> Any: ...


@frozen
class FieldSpec(FrozenRecord):
    """One model field and how it is stored."""

    __slots__ = (
        "attribute",
        "codec",
        "encrypted",
        "is_created_at",
        "is_datetime",
        "is_ttl",
        "is_updated_at",
        "is_version",
        "json_adapter",
        "json_blob",
        "kind",
        "name",
        "omit_empty",
        "optional",
        "validation_key",
    )
    _hidden = frozenset({"json_adapter"})
    name: str
    attribute: str
    kind: ValueKind
    optional: bool
    validation_key: str
    omit_empty: bool
    is_ttl: bool
    is_version: bool
    is_created_at: bool
    is_updated_at: bool
    encrypted: bool
    json_blob: bool
    # Set only for compat models and JSON blobs; None keeps the default codec's fast path.
    codec: FieldCodec | None
    # A ``datetime`` field (possibly optional): read back as an aware UTC datetime.
    is_datetime: bool
    # A ``Json[...]`` field: pydantic validates it only from JSON text, so it is stored as the
    # text this adapter's round-trip dump gives (``None`` for every other field).
    json_adapter: Any

    def __init__(
        self,
        name: str,
        attribute: str,
        kind: ValueKind,
        optional: bool,
        validation_key: str,
        omit_empty: bool = False,
        is_ttl: bool = False,
        is_version: bool = False,
        is_created_at: bool = False,
        is_updated_at: bool = False,
        encrypted: bool = False,
        json_blob: bool = False,
        codec: FieldCodec | None = None,
        is_datetime: bool = False,
        json_adapter: Any = None,
    ) -> None:
        setfield(self, "name", name)
        setfield(self, "attribute", attribute)
        setfield(self, "kind", kind)
        setfield(self, "optional", optional)
        setfield(self, "validation_key", validation_key)
        setfield(self, "omit_empty", omit_empty)
        setfield(self, "is_ttl", is_ttl)
        setfield(self, "is_version", is_version)
        setfield(self, "is_created_at", is_created_at)
        setfield(self, "is_updated_at", is_updated_at)
        setfield(self, "encrypted", encrypted)
        setfield(self, "json_blob", json_blob)
        setfield(self, "codec", codec)
        setfield(self, "is_datetime", is_datetime)
        setfield(self, "json_adapter", json_adapter)

    @property
    def key_type(self) -> str:
        """The ``AttributeType`` of this field when used as a key (S, N or B)."""
        return self.kind.value


@frozen
class IndexSpec(FrozenRecord):
    """A secondary index declared by the model."""

    __slots__ = ("include", "kind", "name", "partition", "projection", "sort")
    name: str
    kind: IndexKind
    partition: FieldSpec
    sort: FieldSpec | None
    projection: Projection
    include: tuple[str, ...]

    def __init__(
        self,
        name: str,
        kind: IndexKind,
        partition: FieldSpec,
        sort: FieldSpec | None,
        projection: Projection,
        include: tuple[str, ...] = (),
    ) -> None:
        setfield(self, "name", name)
        setfield(self, "kind", kind)
        setfield(self, "partition", partition)
        setfield(self, "sort", sort)
        setfield(self, "projection", projection)
        setfield(self, "include", include)


TableNameResolver = Callable[[Any], str]


@frozen
class TableSpec(FrozenRecord):
    """Everything asyncdynamo needs to know about a model class, derived once."""

    __slots__ = (
        "by_attribute",
        "compat",
        "created_at",
        "encrypted",
        "fields",
        "index_key_attributes",
        "indexes",
        "marks_writes",
        "model",
        "partition",
        "set_fields",
        "sort",
        "table",
        "ttl",
        "updated_at",
        "version",
    )
    model: type[Any]
    table: str | TableNameResolver
    partition: FieldSpec
    sort: FieldSpec | None
    fields: Mapping[str, FieldSpec]
    by_attribute: Mapping[str, FieldSpec]
    indexes: tuple[IndexSpec, ...]
    version: FieldSpec | None
    ttl: FieldSpec | None
    created_at: FieldSpec | None
    updated_at: FieldSpec | None
    encrypted: tuple[FieldSpec, ...]
    set_fields: tuple[FieldSpec, ...]
    # Stored attribute names of every secondary-index key (sparse: never stored as NULL).
    index_key_attributes: frozenset[str]
    compat: Compat
    # Whether put/update store a write token (WRITE_TOKEN_ATTRIBUTE) that proves, after a lost
    # answer, that our write was applied. ``__write_token__``; off by default for DYNAMORM models,
    # whose items must hold exactly what a DynamORM writer would store.
    marks_writes: bool

    def __init__(
        self,
        model: type[Any],
        table: str | TableNameResolver,
        partition: FieldSpec,
        sort: FieldSpec | None,
        fields: Mapping[str, FieldSpec],
        by_attribute: Mapping[str, FieldSpec],
        indexes: tuple[IndexSpec, ...] = (),
        version: FieldSpec | None = None,
        ttl: FieldSpec | None = None,
        created_at: FieldSpec | None = None,
        updated_at: FieldSpec | None = None,
        encrypted: tuple[FieldSpec, ...] = (),
        set_fields: tuple[FieldSpec, ...] = (),
        index_key_attributes: frozenset[str] = frozenset(),
        compat: Compat = Compat.NATIVE,
        marks_writes: bool = True,
    ) -> None:
        setfield(self, "model", model)
        setfield(self, "table", table)
        setfield(self, "partition", partition)
        setfield(self, "sort", sort)
        setfield(self, "fields", fields)
        setfield(self, "by_attribute", by_attribute)
        setfield(self, "indexes", indexes)
        setfield(self, "version", version)
        setfield(self, "ttl", ttl)
        setfield(self, "created_at", created_at)
        setfield(self, "updated_at", updated_at)
        setfield(self, "encrypted", encrypted)
        setfield(self, "set_fields", set_fields)
        setfield(self, "index_key_attributes", index_key_attributes)
        setfield(self, "compat", compat)
        setfield(self, "marks_writes", marks_writes)

    @property
    def key_fields(self) -> tuple[FieldSpec, ...]:
        return (self.partition,) if self.sort is None else (self.partition, self.sort)

    def index(self, name: str) -> IndexSpec:
        for index in self.indexes:
            if index.name == name:
                return index
        known = ", ".join(i.name for i in self.indexes) or "none"
        raise ModelDeclarationError(
            f"{self.model.__name__} has no index named {name!r} (declared: {known})"
        )

    def field(self, name: str) -> FieldSpec:
        spec = self.fields.get(name)
        if spec is None:
            raise ModelDeclarationError(f"{self.model.__name__} has no field named {name!r}")
        return spec
