"""Per-field value encodings of ``Compat.DYNAMORM`` models and ``JsonBlob`` fields.

Where DynamORM's rules (the DMS spec) differ from asyncdynamo's, for one top-level field:

- omit-empty also leaves out ``0``, ``0.0`` and ``False`` (besides ``None``, ``""``, empty
  bytes and empty collections);
- an empty or ``None`` set is stored as ``NULL`` (asyncdynamo leaves it out), and still left out
  when the field is omit-empty;
- datetimes are DMS timestamps (see :mod:`._time`), also inside maps and lists;
- ``NULL`` read into a field that is not optional gives the type's zero value, as Go does;
- ``JsonBlob`` fields hold one deterministic JSON string, ``None`` as ``NULL``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from .._codec import AttributeValue, deserialize, model_values, serialize
from .._compat import Compat
from .._errors import ItemDecodeError, SerializationError
from .._spec import FieldSpec, ValueKind
from ._json import json_text, parse_json
from ._time import format_time, parse_time

__all__ = ["FieldCodecImpl", "field_codec", "is_empty"]

_NULL: AttributeValue = {"NULL": True}

_ZERO: dict[ValueKind, Any] = {
    ValueKind.STRING: "",
    ValueKind.NUMBER: 0,
    ValueKind.BINARY: b"",
    ValueKind.BOOL: False,
    ValueKind.LIST: [],
    ValueKind.MAP: {},
}


def is_empty(value: Any) -> bool:
    """DMS emptiness: None, "", empty bytes or collections, 0 and False."""
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float | Decimal):
        return bool(value == 0)
    if isinstance(value, str | bytes | bytearray | list | tuple | dict | set | frozenset):
        return len(value) == 0
    return False


def _with_times(value: Any) -> Any:
    """``value`` with every nested datetime replaced by its DMS text.

    Nested models become the field values they hold (as the default codec stores them) and
    enum members their values, so the datetimes inside them are found too.
    """
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, BaseModel):
        return _with_times(model_values(value))
    if isinstance(value, enum.Enum):
        return _with_times(value.value)
    if isinstance(value, dict):
        return {key: _with_times(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_with_times(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class FieldCodecImpl:
    """The encoding of one field (see the module docstring)."""

    owner: str
    spec: FieldSpec
    is_time: bool
    dynamorm: bool

    def _leave_out(self, value: Any) -> bool:
        if not self.spec.omit_empty:
            return False
        if self.dynamorm:
            return is_empty(value)
        # asyncdynamo's own omit-empty rule (JsonBlob in a native model).
        return value is None or (
            not isinstance(value, int | float | Decimal) and hasattr(value, "__len__") and not value
        )

    def encode(self, value: Any) -> AttributeValue | None:
        if self._leave_out(value):
            return None
        if value is None:
            if not self.dynamorm and self.spec.kind is ValueKind.SET:
                return None
            return _NULL
        if self.spec.json_blob:
            return {"S": json_text(value)}
        kind = self.spec.kind
        if kind is ValueKind.SET and not value:
            return _NULL  # DynamoDB has no empty set; DynamORM stores NULL
        if self.spec.is_ttl and isinstance(value, datetime):
            if value.tzinfo is None:
                raise SerializationError("a TTL datetime must be timezone-aware")
            return {"N": str(int(value.timestamp()))}
        if isinstance(value, datetime):
            return {"S": format_time(value)}
        if kind in (ValueKind.MAP, ValueKind.LIST, ValueKind.ANY):
            return serialize(_with_times(value))
        return serialize(value)

    def decode(self, value: Mapping[str, Any]) -> Any:
        if "NULL" in value:
            if self.spec.kind is ValueKind.SET:
                return set()
            if self.dynamorm and not (self.spec.optional or self.is_time or self.spec.json_blob):
                zero = _ZERO.get(self.spec.kind)
                # A fresh copy: the zero list/map must not be shared between instances.
                return type(zero)() if isinstance(zero, list | dict) else zero
            return None
        text = value.get("S")
        if self.spec.json_blob and text is not None:
            try:
                return parse_json(text)
            except ValueError as exc:
                raise ItemDecodeError(
                    f"{self.owner}.{self.spec.name} is a JSON field but holds text that is "
                    f"not JSON: {exc}",
                    model=self.owner,
                    item={self.spec.attribute: value},
                ) from exc
        if self.is_time and text is not None:
            parsed = parse_time(text)
            return parsed if parsed is not None else text
        return deserialize(value)


def field_codec(owner: str, spec: FieldSpec, annotation: Any, compat: Compat) -> FieldCodecImpl:
    """The codec of a field of a ``compat`` model (``annotation`` without ``| None``)."""
    is_time = isinstance(annotation, type) and issubclass(annotation, datetime)
    return FieldCodecImpl(
        owner=owner, spec=spec, is_time=is_time, dynamorm=compat is Compat.DYNAMORM
    )
