"""Reading a model class's declaration into its :class:`TableSpec`.

Each field's annotation gives its value kind (:func:`kind_of`) and whether it is a pydantic
``Json[...]`` field (:func:`json_adapter`: validated only from JSON text, so stored as that text);
its ``Annotated`` markers give its role in the table.
"""

from __future__ import annotations

import enum
import types
import typing
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Union

from pydantic import Json
from pydantic.fields import FieldInfo

from ._compat import Compat, model_compat, model_marks_writes
from ._errors import ModelDeclarationError
from ._markers import (
    TTL,
    Attr,
    CreatedAt,
    Encrypted,
    GlobalIndex,
    JsonBlob,
    KeyRole,
    LocalIndex,
    Marker,
    OmitEmpty,
    PartitionKey,
    Projection,
    SortKey,
    UpdatedAt,
    Version,
)
from ._record import replace
from ._spec import (
    WRITE_TOKEN_ATTRIBUTE,
    FieldSpec,
    IndexKind,
    IndexSpec,
    TableNameResolver,
    TableSpec,
    ValueKind,
)

__all__ = ["build_spec", "is_time", "json_adapter", "kind_of", "strip_optional"]


_KIND_BY_TYPE: dict[type, ValueKind] = {
    str: ValueKind.STRING,
    uuid.UUID: ValueKind.STRING,
    datetime: ValueKind.STRING,
    date: ValueKind.STRING,
    int: ValueKind.NUMBER,
    float: ValueKind.NUMBER,
    Decimal: ValueKind.NUMBER,
    bytes: ValueKind.BINARY,
    bool: ValueKind.BOOL,
}


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return strip_optional(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) != len(typing.get_args(annotation))
        if len(args) == 1:
            inner, inner_optional = strip_optional(args[0])
            return inner, optional or inner_optional
        return annotation, optional
    return annotation, False


def kind_of(annotation: Any) -> ValueKind:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        values = typing.get_args(annotation)
        if all(isinstance(v, str) for v in values):
            return ValueKind.STRING
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return ValueKind.NUMBER
        return ValueKind.ANY
    if origin in (set, frozenset):
        return ValueKind.SET
    if origin in (list, tuple):
        return ValueKind.LIST
    if origin is dict:
        return ValueKind.MAP
    if isinstance(annotation, type):
        if annotation in (set, frozenset):
            return ValueKind.SET
        if issubclass(annotation, enum.Enum):
            members = [m.value for m in annotation]
            if members and all(isinstance(v, str) for v in members):
                return ValueKind.STRING
            if members and all(isinstance(v, int) for v in members):
                return ValueKind.NUMBER
            return ValueKind.ANY
        if issubclass(annotation, bool):
            return ValueKind.BOOL
        for base, kind in _KIND_BY_TYPE.items():
            if issubclass(annotation, base):
                return kind
        if hasattr(annotation, "model_fields") or issubclass(annotation, dict):
            return ValueKind.MAP
        if issubclass(annotation, list | tuple):
            return ValueKind.LIST
    return ValueKind.ANY


def is_time(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, datetime)


_JSON: type[Any] = Json


def _holds_json(annotation: Any, metadata: list[Any]) -> bool:
    if any(meta is _JSON or isinstance(meta, _JSON) for meta in metadata):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _holds_json(inner, extra)
    if origin is Union or origin is types.UnionType:
        return any(_holds_json(arg, []) for arg in typing.get_args(annotation))
    return False


def json_adapter(info: FieldInfo) -> Any:
    """A TypeAdapter for a ``Json[...]`` field (stored as its JSON text), else ``None``."""
    if not _holds_json(info.annotation, list(info.metadata)):
        return None
    from pydantic import TypeAdapter

    annotation: Any = info.annotation
    if info.metadata:
        annotation = typing.Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation)


def _markers(info: FieldInfo, owner: str, name: str) -> list[Marker]:
    found: list[Marker] = []
    for meta in info.metadata:
        if isinstance(meta, type) and issubclass(meta, Marker):
            try:
                meta = meta()
            except TypeError as exc:
                raise ModelDeclarationError(
                    f"{owner}.{name}: {meta.__name__} needs arguments, "
                    f"e.g. {meta.__name__}('index_name')"
                ) from exc
        if isinstance(meta, Marker):
            found.append(meta)
    return found


class _IndexParts:
    """An index's key fields and projection, collected field by field."""

    __slots__ = ("include", "kind", "partition", "projection", "sort")

    def __init__(self, kind: IndexKind) -> None:
        self.kind = kind
        self.partition: FieldSpec | None = None
        self.sort: FieldSpec | None = None
        self.projection: Projection | None = None
        self.include: tuple[str, ...] = ()


def _declare_index(
    parts: dict[str, _IndexParts], marker: GlobalIndex | LocalIndex, spec: FieldSpec, owner: str
) -> None:
    kind = IndexKind.GLOBAL if isinstance(marker, GlobalIndex) else IndexKind.LOCAL
    entry = parts.setdefault(marker.name, _IndexParts(kind=kind))
    if entry.kind is not kind:
        raise ModelDeclarationError(
            f"{owner}: index {marker.name!r} is declared both as a global and a local index"
        )
    role = marker.role if isinstance(marker, GlobalIndex) else KeyRole.SORT
    slot = "partition" if role is KeyRole.PARTITION else "sort"
    if getattr(entry, slot) is not None:
        raise ModelDeclarationError(
            f"{owner}: index {marker.name!r} has two {slot} keys "
            f"({getattr(entry, slot).name} and {spec.name}); give one of them another role"
        )
    setattr(entry, slot, spec)
    is_default = marker.projection is Projection.ALL and not marker.include
    if not is_default:
        if entry.projection is not None and (entry.projection, entry.include) != (
            marker.projection,
            tuple(marker.include),
        ):
            raise ModelDeclarationError(
                f"{owner}: index {marker.name!r} declares two different projections"
            )
        entry.projection = marker.projection
        entry.include = tuple(marker.include)


def _field_spec(owner: str, name: str, info: FieldInfo, markers: list[Marker]) -> FieldSpec:
    annotation, optional = strip_optional(info.annotation)
    kind = kind_of(annotation)
    attribute = name
    for marker in markers:
        if isinstance(marker, Attr):
            if not marker.name:
                raise ModelDeclarationError(f"{owner}.{name}: Attr('') needs a non-empty name")
            attribute = marker.name
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    is_ttl = any(isinstance(m, TTL) for m in markers)
    is_version = any(isinstance(m, Version) for m in markers)
    created = any(isinstance(m, CreatedAt) for m in markers)
    updated = any(isinstance(m, UpdatedAt) for m in markers)
    if is_ttl and not (is_time(annotation) or annotation is int):
        raise ModelDeclarationError(
            f"{owner}.{name}: TTL needs a datetime (or int epoch seconds) field, "
            f"not {annotation!r}; change its type to datetime | None"
        )
    if is_version and (annotation is not int or optional):
        raise ModelDeclarationError(
            f"{owner}.{name}: Version needs an int field (e.g. `version: Annotated[int, Version]"
            f" = 0`), not {'an optional int' if optional else repr(annotation)}"
        )
    if (created or updated) and not is_time(annotation):
        raise ModelDeclarationError(
            f"{owner}.{name}: CreatedAt/UpdatedAt need a datetime field, not {annotation!r}"
        )
    json_blob = any(isinstance(m, JsonBlob) for m in markers)
    encrypted = any(isinstance(m, Encrypted) for m in markers)
    if encrypted and (is_ttl or is_version or created or updated):
        raise ModelDeclarationError(
            f"{owner}.{name}: a TTL, Version, CreatedAt or UpdatedAt field cannot be Encrypted "
            "(DynamoDB reads its value: it must be stored in clear)"
        )
    if is_ttl:
        kind = ValueKind.NUMBER
    adapter = json_adapter(info)
    if json_blob:
        if is_ttl or is_version or created or updated:
            raise ModelDeclarationError(
                f"{owner}.{name}: JsonBlob cannot be combined with TTL, Version or timestamps"
            )
        if adapter is not None:
            raise ModelDeclarationError(
                f"{owner}.{name}: JsonBlob and pydantic's Json[...] both store JSON text; use one"
            )
    if json_blob or adapter is not None:
        kind = ValueKind.STRING
    return FieldSpec(
        name=name,
        attribute=attribute,
        kind=kind,
        optional=optional,
        validation_key=alias or name,
        omit_empty=any(isinstance(m, OmitEmpty) for m in markers),
        is_ttl=is_ttl,
        is_version=is_version,
        is_created_at=created,
        is_updated_at=updated,
        encrypted=encrypted,
        json_blob=json_blob,
        is_datetime=is_time(annotation),
        json_adapter=adapter,
    )


def _with_codec(owner: str, spec: FieldSpec, info: FieldInfo, compat: Compat) -> FieldSpec:
    """Attach the compat / JSON codec a field needs (imported only by models that use one)."""
    if compat is Compat.NATIVE and not spec.json_blob:
        return spec
    from ._dms._fields import field_codec

    annotation, _ = strip_optional(info.annotation)
    return replace(spec, codec=field_codec(owner, spec, annotation, compat))


def _single(owner: str, label: str, specs: list[FieldSpec]) -> FieldSpec | None:
    if len(specs) > 1:
        names = ", ".join(s.name for s in specs)
        raise ModelDeclarationError(
            f"{owner} declares {label} on several fields ({names}); keep one"
        )
    return specs[0] if specs else None


def _check_key(owner: str, role: str, spec: FieldSpec) -> None:
    if spec.kind not in (ValueKind.STRING, ValueKind.NUMBER, ValueKind.BINARY):
        raise ModelDeclarationError(
            f"{owner}.{spec.name} is a {role} but its type stores as {spec.kind.value}; "
            "key attributes must be strings, numbers or bytes"
        )
    if spec.encrypted:
        raise ModelDeclarationError(f"{owner}.{spec.name} is a {role}; keys cannot be encrypted")


def build_spec(model: type[Any], table: str | TableNameResolver) -> TableSpec:
    """Derive the TableSpec of a model class, or raise ModelDeclarationError."""
    owner = model.__name__
    if isinstance(table, str) and not (3 <= len(table) <= 255):
        raise ModelDeclarationError(f"{owner}.__table__ must be 3 to 255 characters, got {table!r}")
    fields: dict[str, FieldSpec] = {}
    partitions: list[FieldSpec] = []
    sorts: list[FieldSpec] = []
    index_parts: dict[str, _IndexParts] = {}
    compat = model_compat(model)
    for name, info in model.model_fields.items():
        markers = _markers(info, owner, name)
        spec = _with_codec(owner, _field_spec(owner, name, info, markers), info, compat)
        fields[name] = spec
        for marker in markers:
            if isinstance(marker, PartitionKey):
                partitions.append(spec)
            elif isinstance(marker, SortKey):
                sorts.append(spec)
            elif isinstance(marker, GlobalIndex | LocalIndex):
                _declare_index(index_parts, marker, spec, owner)
    if not partitions:
        raise ModelDeclarationError(
            f"{owner} has no partition key; mark one field with Annotated[str, PartitionKey]"
        )
    partition = _single(owner, "PartitionKey", partitions)
    sort = _single(owner, "SortKey", sorts)
    assert partition is not None
    _check_key(owner, "partition key", partition)
    if sort is not None:
        _check_key(owner, "sort key", sort)
        if sort is partition:
            raise ModelDeclarationError(
                f"{owner}.{sort.name} cannot be both partition and sort key"
            )
    attributes: dict[str, FieldSpec] = {}
    for spec in fields.values():
        if spec.attribute == WRITE_TOKEN_ATTRIBUTE:
            raise ModelDeclarationError(
                f"{owner}.{spec.name}: the attribute {WRITE_TOKEN_ATTRIBUTE!r} holds asyncdynamo's "
                "write token; give the field another Attr(...) name"
            )
        if spec.attribute in attributes:
            raise ModelDeclarationError(
                f"{owner}: fields {attributes[spec.attribute].name} and {spec.name} are both "
                f"stored as {spec.attribute!r}; give one another Attr(...) name"
            )
        attributes[spec.attribute] = spec
    indexes = _indexes(owner, index_parts, partition, fields)
    encrypted = tuple(s for s in fields.values() if s.encrypted)
    return TableSpec(
        model=model,
        table=table,
        partition=partition,
        sort=sort,
        fields=types.MappingProxyType(fields),
        by_attribute=types.MappingProxyType(attributes),
        indexes=indexes,
        version=_single(owner, "Version", [s for s in fields.values() if s.is_version]),
        ttl=_single(owner, "TTL", [s for s in fields.values() if s.is_ttl]),
        created_at=_single(owner, "CreatedAt", [s for s in fields.values() if s.is_created_at]),
        updated_at=_single(owner, "UpdatedAt", [s for s in fields.values() if s.is_updated_at]),
        encrypted=encrypted,
        set_fields=tuple(s for s in fields.values() if s.kind is ValueKind.SET),
        index_key_attributes=frozenset(
            key.attribute
            for index in indexes
            for key in (index.partition, index.sort)
            if key is not None
        ),
        compat=compat,
        marks_writes=model_marks_writes(model, compat),
    )


def _indexes(
    owner: str, parts: dict[str, _IndexParts], partition: FieldSpec, fields: dict[str, FieldSpec]
) -> tuple[IndexSpec, ...]:
    indexes: list[IndexSpec] = []
    for name, entry in parts.items():
        if not 3 <= len(name) <= 255:
            raise ModelDeclarationError(f"{owner}: index name {name!r} must be 3 to 255 characters")
        if entry.kind is IndexKind.LOCAL:
            entry.partition = partition
        if entry.partition is None:
            raise ModelDeclarationError(
                f"{owner}: global index {name!r} has no partition key; "
                f"mark a field with GlobalIndex({name!r})"
            )
        _check_key(owner, f"key of index {name!r}", entry.partition)
        if entry.sort is not None:
            _check_key(owner, f"key of index {name!r}", entry.sort)
        include: list[str] = []
        for field_name in entry.include:
            if field_name not in fields:
                raise ModelDeclarationError(
                    f"{owner}: index {name!r} includes unknown field {field_name!r}"
                )
            include.append(fields[field_name].attribute)
        projection = entry.projection or Projection.ALL
        if projection is Projection.INCLUDE and not include:
            raise ModelDeclarationError(
                f"{owner}: index {name!r} uses Projection.INCLUDE; list the fields in include=..."
            )
        indexes.append(
            IndexSpec(
                name=name,
                kind=entry.kind,
                partition=entry.partition,
                sort=entry.sort,
                projection=projection,
                include=tuple(include),
            )
        )
    locals_ = [i for i in indexes if i.kind is IndexKind.LOCAL]
    globals_ = [i for i in indexes if i.kind is IndexKind.GLOBAL]
    if len(locals_) > 5:
        raise ModelDeclarationError(f"{owner} declares {len(locals_)} local indexes; at most 5")
    if len(globals_) > 20:
        raise ModelDeclarationError(f"{owner} declares {len(globals_)} global indexes; at most 20")
    return tuple(indexes)
