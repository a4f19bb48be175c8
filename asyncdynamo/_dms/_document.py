"""The DMS document structure (v0.1), checked field by field into frozen definitions.

Unknown keys are errors, not ignored: a misspelt ``omitempty`` must not silently change how
items are written. Each error names its place in the document (``models[0].attributes[2]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import DmsSchemaError

__all__ = [
    "SUPPORTED_VERSIONS",
    "AttributeDef",
    "DocumentDef",
    "IndexDef",
    "KeyDef",
    "ModelDef",
    "parse_definition",
]

SUPPORTED_VERSIONS = ("0.1",)
ATTRIBUTE_TYPES = ("S", "N", "B", "BOOL", "M", "L", "SS", "NS", "BS", "NULL")
KEY_TYPES = ("S", "N", "B")
FORMATS = {"rfc3339nano": "S", "unix_seconds": "N", "int": "N"}
PLAIN_ROLES = ("pk", "sk", "created_at", "updated_at", "version", "ttl")
_CONVENTIONS = {
    "camelCase": re.compile(r"[a-z][A-Za-z0-9]*|PK|SK"),
    "dynamorm": re.compile(r"[a-z][A-Za-z0-9]*|PK|SK"),
    "snake_case": re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"),
}


@dataclass(frozen=True, slots=True)
class KeyDef:
    attribute: str
    type: str


@dataclass(frozen=True, slots=True)
class AttributeDef:
    attribute: str
    type: str
    path: str
    required: bool = False
    optional: bool = False
    omit_empty: bool = False
    roles: tuple[str, ...] = ()
    format: str | None = None
    json: bool = False
    binary: bool = False
    encrypted: bool = False


@dataclass(frozen=True, slots=True)
class IndexDef:
    name: str
    kind: str
    partition: KeyDef
    sort: KeyDef | None
    projection: str
    fields: tuple[str, ...]
    path: str


@dataclass(frozen=True, slots=True)
class ModelDef:
    name: str
    table: str
    partition: KeyDef
    sort: KeyDef | None
    attributes: tuple[AttributeDef, ...]
    indexes: tuple[IndexDef, ...]
    path: str
    convention: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentDef:
    version: str
    namespace: str | None
    models: tuple[ModelDef, ...]


def _mapping(
    value: Any, path: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DmsSchemaError(f"expected a mapping, got {type(value).__name__}", path=path)
    unknown = sorted(set(value) - set(required) - set(optional), key=str)
    if unknown:
        allowed = ", ".join((*required, *optional))
        raise DmsSchemaError(f"unknown key(s) {unknown}; allowed: {allowed}", path=path)
    missing = [name for name in required if name not in value]
    if missing:
        raise DmsSchemaError(f"missing {', '.join(missing)}", path=path)
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise DmsSchemaError(f"expected a non-empty string, got {value!r}", path=path)
    return value


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise DmsSchemaError(f"expected true or false, got {value!r}", path=path)
    return value


def _sequence(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise DmsSchemaError(f"expected a list, got {type(value).__name__}", path=path)
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise DmsSchemaError(f"expected one of {', '.join(choices)}, got {value!r}", path=path)
    return str(value)


def _key(value: Any, path: str) -> KeyDef:
    raw = _mapping(value, path, required=("attribute", "type"))
    return KeyDef(
        attribute=_text(raw["attribute"], f"{path}.attribute"),
        type=_choice(raw["type"], f"{path}.type", KEY_TYPES),
    )


def _attribute(value: Any, path: str) -> AttributeDef:
    raw = _mapping(
        value,
        path,
        required=("attribute", "type"),
        optional=(
            "required",
            "optional",
            "omit_empty",
            "roles",
            "format",
            "json",
            "binary",
            "encryption",
            "tags",
        ),
    )
    kind = _choice(raw["type"], f"{path}.type", ATTRIBUTE_TYPES)
    roles = tuple(
        _text(role, f"{path}.roles[{i}]")
        for i, role in enumerate(_sequence(raw.get("roles", []), f"{path}.roles"))
    )
    for i, role in enumerate(roles):
        if role not in PLAIN_ROLES and not role.startswith(("index_pk:", "index_sk:")):
            raise DmsSchemaError(f"unknown role {role!r}", path=f"{path}.roles[{i}]")
    fmt = raw.get("format")
    if fmt is not None:
        fmt = _choice(fmt, f"{path}.format", tuple(FORMATS))
        if FORMATS[fmt] != kind:
            raise DmsSchemaError(f"format {fmt} needs type {FORMATS[fmt]}", path=f"{path}.format")
    encrypted = False
    if "encryption" in raw:
        envelope = _mapping(raw["encryption"], f"{path}.encryption", required=(), optional=("v",))
        if envelope.get("v", 1) != 1:
            raise DmsSchemaError(
                f"envelope version {envelope['v']!r} is not supported (only 1)",
                path=f"{path}.encryption.v",
            )
        encrypted = True
    if "tags" in raw and not isinstance(raw["tags"], Mapping):
        raise DmsSchemaError("tags must be a mapping", path=f"{path}.tags")
    attribute = AttributeDef(
        attribute=_text(raw["attribute"], f"{path}.attribute"),
        type=kind,
        path=path,
        required=_flag(raw.get("required", False), f"{path}.required"),
        optional=_flag(raw.get("optional", False), f"{path}.optional"),
        omit_empty=_flag(raw.get("omit_empty", False), f"{path}.omit_empty"),
        roles=roles,
        format=fmt,
        json=_flag(raw.get("json", False), f"{path}.json"),
        binary=_flag(raw.get("binary", False), f"{path}.binary"),
        encrypted=encrypted,
    )
    if attribute.required and attribute.optional:
        raise DmsSchemaError("an attribute cannot be both required and optional", path=path)
    if attribute.json and kind != "S":
        raise DmsSchemaError("json: true needs type S (a JSON string)", path=f"{path}.json")
    if attribute.binary and kind != "B":
        raise DmsSchemaError("binary: true needs type B", path=f"{path}.binary")
    return attribute


def _index(value: Any, path: str) -> IndexDef:
    raw = _mapping(
        value, path, required=("name", "type", "partition"), optional=("sort", "projection")
    )
    projection = _mapping(
        raw.get("projection", {"type": "ALL"}),
        f"{path}.projection",
        required=("type",),
        optional=("fields",),
    )
    kind = _choice(projection["type"], f"{path}.projection.type", ("ALL", "KEYS_ONLY", "INCLUDE"))
    fields = tuple(
        _text(name, f"{path}.projection.fields[{i}]")
        for i, name in enumerate(
            _sequence(projection.get("fields", []), f"{path}.projection.fields")
        )
    )
    if fields and kind != "INCLUDE":
        raise DmsSchemaError(
            "projection fields are only used with type INCLUDE", path=f"{path}.projection"
        )
    if kind == "INCLUDE" and not fields:
        raise DmsSchemaError("projection INCLUDE needs fields", path=f"{path}.projection")
    return IndexDef(
        name=_text(raw["name"], f"{path}.name"),
        kind=_choice(raw["type"], f"{path}.type", ("GSI", "LSI")),
        partition=_key(raw["partition"], f"{path}.partition"),
        sort=_key(raw["sort"], f"{path}.sort") if raw.get("sort") is not None else None,
        projection=kind,
        fields=fields,
        path=path,
    )


def _model(value: Any, path: str) -> ModelDef:
    raw = _mapping(
        value,
        path,
        required=("name", "table", "keys", "attributes"),
        optional=("naming", "indexes"),
    )
    name = _text(raw["name"], f"{path}.name")
    table = _mapping(raw["table"], f"{path}.table", required=("name",))
    keys = _mapping(raw["keys"], f"{path}.keys", required=("partition",), optional=("sort",))
    convention: str | None = None
    if "naming" in raw:
        naming = _mapping(raw["naming"], f"{path}.naming", required=(), optional=("convention",))
        if "convention" in naming:
            convention = _choice(
                naming["convention"], f"{path}.naming.convention", tuple(_CONVENTIONS)
            )
    attributes = tuple(
        _attribute(item, f"{path}.attributes[{i}]")
        for i, item in enumerate(_sequence(raw["attributes"], f"{path}.attributes"))
    )
    if convention is not None:
        pattern = _CONVENTIONS[convention]
        for attribute in attributes:
            if not pattern.fullmatch(attribute.attribute):
                raise DmsSchemaError(
                    f"attribute name {attribute.attribute!r} breaks naming convention {convention}",
                    path=f"{attribute.path}.attribute",
                    model=name,
                )
    return ModelDef(
        name=name,
        table=_text(table["name"], f"{path}.table.name"),
        partition=_key(keys["partition"], f"{path}.keys.partition"),
        sort=_key(keys["sort"], f"{path}.keys.sort") if keys.get("sort") is not None else None,
        attributes=attributes,
        indexes=tuple(
            _index(item, f"{path}.indexes[{i}]")
            for i, item in enumerate(_sequence(raw.get("indexes", []), f"{path}.indexes"))
        ),
        path=path,
        convention=convention,
    )


def parse_definition(value: Any) -> DocumentDef:
    """Check a parsed DMS document and return its definitions (or raise DmsSchemaError)."""
    raw = _mapping(value, "", required=("dms_version", "models"), optional=("namespace",))
    version = raw["dms_version"]
    if version not in SUPPORTED_VERSIONS:
        raise DmsSchemaError(
            f"dms_version {version!r} is not supported (supported: "
            f'{", ".join(SUPPORTED_VERSIONS)}; quote it, e.g. "0.1")',
            path="dms_version",
        )
    namespace = raw.get("namespace")
    if namespace is not None:
        namespace = _text(namespace, "namespace")
    models = tuple(
        _model(item, f"models[{i}]") for i, item in enumerate(_sequence(raw["models"], "models"))
    )
    if not models:
        raise DmsSchemaError("the document declares no models", path="models")
    names = [m.name for m in models]
    for model in models:
        if names.count(model.name) > 1:
            raise DmsSchemaError(f"two models are named {model.name!r}", path=model.path)
    return DocumentDef(version=str(version), namespace=namespace, models=models)
