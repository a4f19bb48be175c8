"""Placeholders: the ``#nN``/``:vN`` names and values of one request, checked against the model.

Paths are mapped to stored attribute names and values are encoded the way their field stores
them; DynamoDB's limits on substitutions, nesting and encrypted fields are enforced here, before
anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._codec import MAX_NESTING_DEPTH, AttributeValue, serialize
from ._errors import ExpressionError, SerializationError
from ._item import MAX_ITEM_BYTES, encode_field, value_size
from ._record import EMPTY, Record
from ._spec import FieldSpec, TableSpec, ValueKind

if TYPE_CHECKING:
    from ._expr import Path

__all__ = ["MAX_SUBSTITUTION_BYTES", "Placeholders"]

# DynamoDB: all ExpressionAttributeNames and ExpressionAttributeValues of one request together
# are at most 2 MB.
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024


class Placeholders(Record):
    """Allocates ``#n``/``:v`` placeholders for one request, de-duplicating names."""

    __slots__ = ("_by_name", "names", "prefix", "sealed", "size", "spec", "values")
    spec: TableSpec | None
    names: dict[str, str]
    values: dict[str, AttributeValue]
    _by_name: dict[str, str]
    prefix: str
    # Value tokens whose value must be sealed before sending (token -> attribute), see _update.
    sealed: dict[str, str]
    size: int  # bytes of names and values so far, for DynamoDB's 2 MB substitution limit

    def __init__(
        self,
        spec: TableSpec | None = None,
        names: Mapping[str, str] = EMPTY,
        values: Mapping[str, AttributeValue] = EMPTY,
        _by_name: Mapping[str, str] = EMPTY,
        prefix: str = "",
        sealed: Mapping[str, str] = EMPTY,
        size: int = 0,
    ) -> None:
        self.spec = spec
        self.names = {} if names is EMPTY else names  # type: ignore[assignment]
        self.values = {} if values is EMPTY else values  # type: ignore[assignment]
        self._by_name = {} if _by_name is EMPTY else _by_name  # type: ignore[assignment]
        self.prefix = prefix
        self.sealed = {} if sealed is EMPTY else sealed  # type: ignore[assignment]
        self.size = size

    def name(self, attribute: str) -> str:
        token = self._by_name.get(attribute)
        if token is None:
            if not attribute:
                raise ExpressionError("DynamoDB rejects an empty attribute name in a path")
            self._grow(value_size({"S": attribute}))
            token = f"#{self.prefix}n{len(self._by_name)}"
            self._by_name[attribute] = token
            self.names[token] = attribute
        return token

    def value(self, encoded: AttributeValue) -> str:
        size = value_size(encoded)
        if size > MAX_ITEM_BYTES:
            raise ExpressionError(
                f"an expression value is {size} bytes; DynamoDB items hold at most 400 KB "
                f"({MAX_ITEM_BYTES}), so it can neither be stored nor match a stored value"
            )
        self._grow(size)
        token = f":{self.prefix}v{len(self.values)}"
        self.values[token] = encoded
        return token

    def _grow(self, size: int) -> None:
        self.size += size
        if self.size > MAX_SUBSTITUTION_BYTES:
            raise ExpressionError(
                f"the request's expression names and values add up to {self.size} bytes; "
                f"DynamoDB allows {MAX_SUBSTITUTION_BYTES} (2 MB): split the work"
            )

    def field_of(self, path: Path) -> FieldSpec | None:
        """The model field ``path`` starts at, checking the path can exist inside it."""
        if self.spec is None or not path.elements or not isinstance(path.elements[0], str):
            return None
        top = path.elements[0]
        spec = self.spec.fields.get(top)
        if spec is None:
            known = ", ".join(sorted(self.spec.fields))
            raise ExpressionError(
                f"{self.spec.model.__name__} has no field {top!r} (fields: {known})"
            )
        if len(path.elements) > 1:
            _check_nested(spec, path)
        return spec

    def encode(self, path: Path | None, value: Any) -> AttributeValue:
        """Encode ``value`` as the field ``path`` stores it, checking the type matches."""
        encoded = self.encode_stored(path, value)
        if encoded is None:
            raise ExpressionError(f"{path}: an empty value cannot be used here")
        return encoded

    def encode_stored(self, path: Path | None, value: Any) -> AttributeValue | None:
        """Like :meth:`encode`, but ``None`` where the field would leave the attribute out."""
        spec = self.field_of(path) if path is not None else None
        try:
            if spec is not None and path is not None and len(path.elements) == 1:
                encoded = encode_field(spec, value)
                if encoded is not None:
                    _check_kind(spec, encoded)
                return encoded
            return serialize(value)
        except SerializationError as exc:
            raise ExpressionError(str(exc)) from exc

    def render_path(self, path: Path, *, whole_encrypted: bool = False) -> str:
        """``#n0.#n1[2]`` for ``path``; an ``Encrypted`` field only as a whole-value update target.

        DynamoDB only ever sees an encrypted field's ciphertext, so a condition, filter, key
        condition or projection on it could not mean what it says (and would need its value in
        clear): refused before anything is sent.
        """
        if len(path.elements) > MAX_NESTING_DEPTH:
            raise ExpressionError(
                f"{path} is {len(path.elements)} levels deep; DynamoDB document paths have at "
                f"most {MAX_NESTING_DEPTH}"
            )
        spec = self.field_of(path)
        if (
            spec is not None
            and spec.encrypted
            and not (whole_encrypted and len(path.elements) == 1)
        ):
            raise ExpressionError(
                f"{self.spec.model.__name__ if self.spec else ''}.{spec.name} is Encrypted: "
                "DynamoDB stores only its ciphertext, so it cannot be used in a condition, "
                "filter, key condition, projection or partial update. Read the item and compare "
                "in Python, or set the whole value with Update().set(...)"
            )
        parts: list[str] = []
        for position, element in enumerate(path.elements):
            if isinstance(element, int):
                parts.append(f"[{element}]")
                continue
            attribute = spec.attribute if position == 0 and spec is not None else element
            token = self.name(attribute)
            parts.append(token if position == 0 else f".{token}")
        return "".join(parts)


_TAGS_BY_KIND: dict[ValueKind, frozenset[str]] = {
    ValueKind.STRING: frozenset({"S"}),
    ValueKind.NUMBER: frozenset({"N"}),
    ValueKind.BINARY: frozenset({"B"}),
    ValueKind.BOOL: frozenset({"BOOL"}),
    ValueKind.SET: frozenset({"SS", "NS", "BS"}),
    ValueKind.LIST: frozenset({"L"}),
    ValueKind.MAP: frozenset({"M"}),
}


def _check_kind(spec: FieldSpec, encoded: AttributeValue) -> None:
    tag = next(iter(encoded))
    expected = _TAGS_BY_KIND.get(spec.kind)
    if expected is not None and tag not in expected and tag != "NULL":
        raise ExpressionError(
            f"{spec.name} stores {spec.kind.value} values; the value given encodes as {tag}"
        )


def _check_nested(spec: FieldSpec, path: Path) -> None:
    # A path into a scalar, or a list index into a map, can never match: DynamoDB would just
    # evaluate it as missing, so a typo would silently turn a condition false.
    step = path.elements[1]
    if spec.kind in (ValueKind.LIST, ValueKind.MAP, ValueKind.ANY):
        if spec.kind is ValueKind.LIST and not isinstance(step, int):
            raise ExpressionError(f"{path}: {spec.name} is a list; address elements as [i]")
        if spec.kind is ValueKind.MAP and isinstance(step, int):
            raise ExpressionError(f"{path}: {spec.name} is a map; address entries by name")
        return
    raise ExpressionError(f"{path}: {spec.name} stores {spec.kind.value} values, not a document")
