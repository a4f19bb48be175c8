"""DMS definitions → asyncdynamo model classes, declared with the ordinary ``Annotated`` markers.

A loaded model is exactly the class one would write by hand: a ``Model`` subclass with
``__table__``, ``__compat__`` and one annotated field per attribute, so everything else
(specs, queries, schema management) treats it like any other model.

Field names are the attribute names in snake_case (``createdAt`` → ``created_at``, ``PK`` →
``pk``); the attribute name itself is kept with ``Attr``. Types, by DMS type: ``S`` → ``str``
(``datetime`` with format ``rfc3339nano`` or a timestamp role; any JSON value with ``json``),
``N`` → ``Decimal`` (``int`` with format ``int`` or role ``version``; ``datetime`` with format
``unix_seconds`` or role ``ttl``), ``B`` → ``bytes``, ``BOOL`` → ``bool``, ``M`` →
``dict[str, Any]``, ``L`` → ``list[Any]``, ``SS``/``NS``/``BS`` → sets, ``NULL`` → ``None``.
``required`` fields have no default; ``optional`` ones are ``T | None = None``; the others
default to the type's zero value, as a Go struct field does. Sets are never ``None``: DynamoDB
has no empty set, so absent, ``NULL`` and empty all read as an empty set.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from .._compat import Compat, EnvelopeFormat
from .._errors import ModelDeclarationError
from .._markers import (
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
from .._model import Model
from ._document import AttributeDef, IndexDef, KeyDef, ModelDef
from ._errors import DmsSchemaError

__all__ = ["build_model", "python_name"]

_SCALARS: dict[str, Any] = {
    "S": str,
    "N": Decimal,
    "B": bytes,
    "BOOL": bool,
    "M": dict[str, Any],
    "L": list[Any],
    "SS": set[str],
    "NS": set[Decimal],
    "BS": set[bytes],
    "NULL": type(None),
}
_ZERO_FACTORIES: dict[str, Callable[[], Any]] = {
    "M": dict,
    "L": list,
    "SS": set,
    "NS": set,
    "BS": set,
}
_ZEROS: dict[str, Any] = {"S": "", "N": Decimal(0), "B": b"", "BOOL": False, "NULL": None}
_TAKEN = frozenset(dir(Model))


def python_name(attribute: str) -> str:
    """The field name used for a DMS attribute: snake_case, a valid identifier, no clashes."""
    if attribute in ("PK", "SK"):
        return attribute.lower()
    name = re.sub(r"[^0-9A-Za-z_]", "_", attribute)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().strip("_")
    name = re.sub(r"_+", "_", name)
    if not name or name[0].isdigit() or name.startswith("model_"):
        name = f"f_{name}"
    if keyword.iskeyword(name) or name in _TAKEN:
        name = f"{name}_"
    return name


class _Builder:
    """Collects the markers and field declarations of one model."""

    def __init__(self, model: ModelDef) -> None:
        self.model = model
        self.by_attribute = {a.attribute: a for a in model.attributes}
        self.names: dict[str, str] = {}
        self.markers: dict[str, list[Marker]] = {a.attribute: [] for a in model.attributes}
        for attribute in model.attributes:
            self._name(attribute)

    def fail(self, message: str, path: str) -> DmsSchemaError:
        return DmsSchemaError(message, path=path, model=self.model.name)

    def _name(self, attribute: AttributeDef) -> None:
        if attribute.attribute in self.names:
            raise self.fail(f"attribute {attribute.attribute!r} is declared twice", attribute.path)
        base = name = python_name(attribute.attribute)
        taken = set(self.names.values())
        suffix = 2
        while name in taken:
            name, suffix = f"{base}_{suffix}", suffix + 1
        self.names[attribute.attribute] = name

    def declared(self, key: KeyDef, path: str) -> AttributeDef:
        attribute = self.by_attribute.get(key.attribute)
        if attribute is None:
            raise self.fail(f"attribute {key.attribute!r} is not declared in attributes", path)
        if attribute.type != key.type:
            raise self.fail(
                f"{key.attribute!r} is declared as {attribute.type} in attributes but as "
                f"{key.type} here",
                path,
            )
        if attribute.encrypted:
            raise self.fail(f"{key.attribute!r} is encrypted and cannot be a key", path)
        return attribute

    def keys(self) -> None:
        model = self.model
        partition = self.declared(model.partition, f"{model.path}.keys.partition")
        self.markers[partition.attribute].append(PartitionKey())
        sort = None
        if model.sort is not None:
            sort = self.declared(model.sort, f"{model.path}.keys.sort")
            self.markers[sort.attribute].append(SortKey())
        for attribute in model.attributes:
            for role, expected in (("pk", partition), ("sk", sort)):
                if role in attribute.roles and attribute is not expected:
                    raise self.fail(
                        f"role {role} on {attribute.attribute!r} disagrees with keys "
                        f"({expected.attribute if expected else 'none'})",
                        attribute.path,
                    )

    def index(self, index: IndexDef) -> None:
        projection = Projection(index.projection)
        include = tuple(self._included(index, name) for name in index.fields)
        if index.kind == "LSI":
            if index.partition.attribute != self.model.partition.attribute:
                raise self.fail(
                    "a local index shares the table's partition key "
                    f"({self.model.partition.attribute!r})",
                    f"{index.path}.partition",
                )
            if index.sort is None:
                raise self.fail("a local index needs a sort key", index.path)
            sort = self.declared(index.sort, f"{index.path}.sort")
            self.markers[sort.attribute].append(LocalIndex(index.name, projection, include))
            return
        partition = self.declared(index.partition, f"{index.path}.partition")
        self.markers[partition.attribute].append(
            GlobalIndex(index.name, KeyRole.PARTITION, projection, include)
        )
        if index.sort is not None:
            sort = self.declared(index.sort, f"{index.path}.sort")
            self.markers[sort.attribute].append(GlobalIndex(index.name, KeyRole.SORT))

    def _included(self, index: IndexDef, attribute: str) -> str:
        if attribute not in self.names:
            raise self.fail(
                f"projection field {attribute!r} is not declared in attributes",
                f"{index.path}.projection",
            )
        return self.names[attribute]

    def check_index_roles(self) -> None:
        declared: dict[str, IndexDef] = {i.name: i for i in self.model.indexes}
        for attribute in self.model.attributes:
            for role in attribute.roles:
                if not role.startswith(("index_pk:", "index_sk:")):
                    continue
                kind, _, name = role.partition(":")
                index = declared.get(name)
                key = (
                    None if index is None else index.partition if kind == "index_pk" else index.sort
                )
                if key is None or key.attribute != attribute.attribute:
                    raise self.fail(
                        f"role {role} does not match the indexes section", attribute.path
                    )

    def field(self, attribute: AttributeDef) -> tuple[Any, Any]:
        """The annotation and default (pydantic ``FieldInfo``) of one attribute's field."""
        roles = set(attribute.roles)
        markers = self.markers[attribute.attribute]
        python_type = _SCALARS[attribute.type]
        lifecycle = False
        if "version" in roles:
            if attribute.type != "N":
                raise self.fail("the version attribute must have type N", attribute.path)
            python_type, lifecycle = int, True
            markers.append(Version())
        elif "ttl" in roles or attribute.format == "unix_seconds":
            if attribute.type != "N":
                raise self.fail("a TTL attribute must have type N", attribute.path)
            python_type = datetime
            lifecycle = "ttl" in roles
            if lifecycle:
                markers.append(TTL())
        elif roles & {"created_at", "updated_at"} or attribute.format == "rfc3339nano":
            if attribute.type != "S":
                raise self.fail("a timestamp attribute must have type S", attribute.path)
            python_type = datetime
            for role, marker in (("created_at", CreatedAt()), ("updated_at", UpdatedAt())):
                if role in roles:
                    markers.append(marker)
                    lifecycle = True
        elif attribute.format == "int":
            python_type = int
        if attribute.json:
            python_type = Any
            markers.append(JsonBlob())
        if attribute.omit_empty:
            markers.append(OmitEmpty())
        if attribute.encrypted:
            markers.append(Encrypted())
        if self.names[attribute.attribute] != attribute.attribute:
            markers.append(Attr(attribute.attribute))
        is_key = any(isinstance(m, PartitionKey | SortKey) for m in markers)
        if python_type is int and "version" in roles:
            default: Any = Field(default=0)
        elif is_key or attribute.required:
            default = Field()
        elif attribute.type in ("SS", "NS", "BS"):
            # DynamoDB has no empty set: absent, NULL and empty all read back as an empty set.
            default = Field(default_factory=set)
        elif attribute.optional or python_type is datetime or python_type is Any or lifecycle:
            python_type = python_type | None if python_type is not Any else Any
            default = Field(default=None)
        elif attribute.type in _ZERO_FACTORIES:
            default = Field(default_factory=_ZERO_FACTORIES[attribute.type])
        else:
            default = Field(default=0 if python_type is int else _ZEROS[attribute.type])
        annotation = Annotated[python_type, *markers] if markers else python_type
        return annotation, default


def build_model(
    model: ModelDef,
    *,
    compat: Compat,
    module: str,
    namespace: str | None = None,
    envelope_format: EnvelopeFormat = EnvelopeFormat.ASYNCDYNAMO,
) -> type[Model]:
    """The asyncdynamo model class a DMS model describes (or DmsSchemaError)."""
    if not model.name.isidentifier():
        raise DmsSchemaError(
            f"model name {model.name!r} is not a valid class name", path=f"{model.path}.name"
        )
    builder = _Builder(model)
    builder.keys()
    for index in model.indexes:
        builder.index(index)
    builder.check_index_roles()
    annotations: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for attribute in model.attributes:
        name = builder.names[attribute.attribute]
        annotations[name], body[name] = builder.field(attribute)
    where = f"{namespace}." if namespace else ""
    body.update(
        {
            "__module__": module,
            "__qualname__": model.name,
            "__doc__": f"DMS model {where}{model.name} (table {model.table!r}).",
            "__annotations__": annotations,
            "__table__": model.table,
            "__compat__": compat,
            "__envelope_format__": envelope_format,
        }
    )
    try:
        made: type[Model] = type(model.name, (Model,), body)
    except ModelDeclarationError as exc:
        raise DmsSchemaError(str(exc), path=model.path, model=model.name) from exc
    return made
