"""Model declarations: what is derived, and mistakes caught at class creation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import pytest

from asyncdynamo import (
    TTL,
    Attr,
    CreatedAt,
    GlobalIndex,
    IndexKind,
    KeyRole,
    LocalIndex,
    Model,
    ModelDeclarationError,
    PartitionKey,
    Projection,
    SortKey,
    Version,
    env_table_name,
    spec_of,
)
from asyncdynamo._spec import ValueKind
from tests.models import Account, Order


def test_spec_describes_keys_indexes_and_lifecycle_fields() -> None:
    spec = spec_of(Order)
    assert spec.partition.attribute == "customer_id"
    assert spec.sort is not None and spec.sort.attribute == "order_id"
    assert spec.fields["total"].attribute == "amt"
    by_status = spec.index("by_status")
    assert by_status.kind is IndexKind.GLOBAL
    assert by_status.partition.name == "status"
    assert by_status.sort is not None and by_status.sort.name == "placed_at"
    by_placed = spec.index("by_placed")
    assert by_placed.kind is IndexKind.LOCAL
    assert by_placed.partition is spec.partition


def test_lifecycle_fields_are_found() -> None:
    spec = spec_of(Account)
    assert spec.version is not None and spec.version.name == "version"
    assert spec.ttl is not None and spec.ttl.kind is ValueKind.NUMBER
    assert spec.created_at is not None and spec.updated_at is not None


def test_marker_classes_and_instances_are_equivalent() -> None:
    class WithInstance(Model):
        __table__ = "with_instance"
        key: Annotated[str, PartitionKey()]

    assert spec_of(WithInstance).partition.name == "key"


def test_model_without_table_is_abstract_and_not_storable() -> None:
    class Base(Model):
        owner: str

    with pytest.raises(ModelDeclarationError, match="not a stored model"):
        spec_of(Base)


def test_subclass_of_abstract_base_inherits_fields() -> None:
    class Base(Model):
        tenant: Annotated[str, PartitionKey]

    class Concrete(Base):
        __table__ = "concrete"
        name: Annotated[str, SortKey]

    spec = spec_of(Concrete)
    assert (spec.partition.name, spec.sort.name if spec.sort else None) == ("tenant", "name")


def _declare(**fields: Any) -> type[Model]:
    namespace: dict[str, Any] = {"__table__": "declared", "__annotations__": fields}
    return type("Declared", (Model,), namespace)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": str}, "no partition key"),
        (
            {"a": Annotated[str, PartitionKey], "b": Annotated[str, PartitionKey]},
            "PartitionKey on several fields",
        ),
        ({"a": Annotated[str, PartitionKey], "ttl": Annotated[str, TTL]}, "TTL needs a datetime"),
        ({"a": Annotated[str, PartitionKey], "v": Annotated[str, Version]}, "Version needs an int"),
        (
            {"a": Annotated[str, PartitionKey], "v": Annotated[int | None, Version]},
            "Version needs an int .* not an optional int",
        ),
        (
            {"a": Annotated[str, PartitionKey], "c": Annotated[int, CreatedAt]},
            "need a datetime",
        ),
        ({"a": Annotated[list[str], PartitionKey]}, "key attributes must be strings"),
        ({"a": Annotated[str, PartitionKey], "g": Annotated[str, GlobalIndex]}, "needs arguments"),
        (
            {
                "a": Annotated[str, PartitionKey],
                "s": Annotated[str, GlobalIndex("gsi1", role=KeyRole.SORT)],
            },
            "has no partition key",
        ),
        (
            {"a": Annotated[str, PartitionKey], "b": Annotated[str, Attr("a")]},
            "both stored as 'a'",
        ),
        (
            {
                "a": Annotated[str, PartitionKey],
                "b": Annotated[str, GlobalIndex("idx", projection=Projection.INCLUDE)],
            },
            "include",
        ),
        (
            {
                "a": Annotated[str, PartitionKey],
                "b": Annotated[str, GlobalIndex("same")],
                "c": Annotated[str, LocalIndex("same")],
            },
            "both as a global and a local",
        ),
    ],
)
def test_declaration_mistakes_fail_at_class_creation(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelDeclarationError, match=message):
        _declare(**fields)


def test_table_name_must_be_valid() -> None:
    with pytest.raises(ModelDeclarationError, match="3 to 255"):
        type(
            "Short",
            (Model,),
            {"__table__": "ab", "__annotations__": {"a": Annotated[str, PartitionKey]}},
        )


def test_number_and_binary_keys_are_allowed() -> None:
    class Numbered(Model):
        __table__ = "numbered"
        n: Annotated[int, PartitionKey]
        d: Annotated[Decimal, SortKey]

    spec = spec_of(Numbered)
    assert (spec.partition.key_type, spec.sort.key_type if spec.sort else "") == ("N", "N")


def test_ttl_may_be_int_epoch_seconds() -> None:
    class Expiring(Model):
        __table__ = "expiring"
        k: Annotated[str, PartitionKey]
        expires: Annotated[int | None, TTL] = None
        when: datetime | None = None

    assert spec_of(Expiring).ttl is not None


def test_env_table_name_resolves_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    resolver = env_table_name("ORDERS_TABLE", default="orders-dev")
    assert resolver(None) == "orders-dev"
    monkeypatch.setenv("ORDERS_TABLE", "orders-prod")
    assert resolver(None) == "orders-prod"
