"""The update-expression builder.

```python
change = Update().set("status", "paid").increment("attempts").remove("error")
```
Each method returns a new builder; nothing is rendered until a request is built.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any, Literal

from ._codec import AttributeValue, serialize
from ._errors import ExpressionError, SerializationError
from ._expr import MAX_EXPRESSION_BYTES, Path, Placeholders, attr
from ._item import MAX_ITEM_BYTES, check_index_key
from ._record import FrozenRecord, frozen, setfield
from ._spec import ValueKind

__all__ = ["Update", "UpdateAction", "UpdateOp", "render_update"]


# The kinds of update action (a type, not an Enum: an Enum class costs about as much at import
# as the rest of this module).
UpdateOp = Literal[
    "SET", "SET_IF_NOT_EXISTS", "INCREMENT", "APPEND", "PREPEND", "REMOVE", "ADD", "DELETE"
]


@frozen
class UpdateAction(FrozenRecord):
    __slots__ = ("op", "path", "value")
    op: UpdateOp
    path: Path
    value: Any

    def __init__(self, op: UpdateOp, path: Path, value: Any = None) -> None:
        setfield(self, "op", op)
        setfield(self, "path", path)
        setfield(self, "value", value)

    # Path.__eq__ builds a condition, so the generated __eq__ would compare nothing useful.
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UpdateAction):
            return NotImplemented
        return (self.op, self.path.elements, self.value) == (
            other.op,
            other.path.elements,
            other.value,
        )

    def __hash__(self) -> int:  # type: ignore[override]  # as Path.__hash__
        return hash((self.op, self.path.elements))


@frozen
class Update(FrozenRecord):
    """An immutable list of update actions on one item."""

    __slots__ = ("actions",)
    actions: tuple[UpdateAction, ...]

    def __init__(self, actions: tuple[UpdateAction, ...] = ()) -> None:
        setfield(self, "actions", actions)

    def _with(self, op: UpdateOp, path: str | Path, value: Any = None) -> Update:
        return Update((*self.actions, UpdateAction(op, attr(path), value)))

    def set(self, path: str | Path, value: Any) -> Update:
        """``SET path = value`` (``None`` stores NULL; use :meth:`remove` to delete)."""
        return self._with("SET", path, value)

    def set_if_not_exists(self, path: str | Path, value: Any) -> Update:
        """Set ``path`` only when the item has no value there yet."""
        return self._with("SET_IF_NOT_EXISTS", path, value)

    def increment(self, path: str | Path, by: int | float | Any = 1) -> Update:
        """Add ``by`` to a number (a missing attribute counts as 0); negative to decrement."""
        return self._with("INCREMENT", path, by)

    def append(self, path: str | Path, values: list[Any]) -> Update:
        """Append ``values`` to a list (a missing attribute counts as an empty list)."""
        return self._with("APPEND", path, list(values))

    def prepend(self, path: str | Path, values: list[Any]) -> Update:
        """Put ``values`` in front of a list (a missing attribute counts as an empty list)."""
        return self._with("PREPEND", path, list(values))

    def remove(self, path: str | Path) -> Update:
        """Remove the attribute (or list element / map entry) at ``path``."""
        return self._with("REMOVE", path)

    def add(self, path: str | Path, value: Any) -> Update:
        """DynamoDB ``ADD``: add to a top-level number, or add elements to a set."""
        return self._with("ADD", path, value)

    def delete(self, path: str | Path, values: AbstractSet[Any]) -> Update:
        """Remove ``values`` from a top-level set."""
        return self._with("DELETE", path, values)

    def __bool__(self) -> bool:
        return bool(self.actions)

    def paths(self) -> tuple[Path, ...]:
        return tuple(a.path for a in self.actions)


def _raw_value(ph: Placeholders, value: Any) -> str:
    try:
        return ph.value(serialize(value))
    except SerializationError as exc:
        raise ExpressionError(str(exc)) from exc


def render_update(
    update: Update,
    ph: Placeholders,
    *,
    protected: frozenset[str] = frozenset(),
    managed: Update | None = None,
) -> str:
    """Render into ``SET ... REMOVE ... ADD ... DELETE ...``, checking paths first.

    Args:
        protected: python field names the caller may not touch (keys, managed fields).
        managed: actions the framework adds (version, timestamps), exempt from ``protected``.
    """
    if not update.actions:
        raise ExpressionError("an update needs at least one action")
    seen: list[Path] = []
    clauses: dict[str, list[str]] = {"SET": [], "REMOVE": [], "ADD": [], "DELETE": []}
    before = ph.size
    for action in update.actions:
        if action.path.top in protected:
            raise ExpressionError(
                f"{action.path.top} cannot be changed by an update (it is a key or managed field)"
            )
        _render_action(action, ph, clauses, seen)
    for action in managed.actions if managed is not None else ():
        _render_action(action, ph, clauses, seen)
    written = ph.size - before
    if written > MAX_ITEM_BYTES:
        raise ExpressionError(
            f"the update writes {written} bytes of names and values; an item holds at most "
            f"400 KB ({MAX_ITEM_BYTES}): split the change or move large values to S3"
        )
    text = " ".join(f"{kw} {', '.join(parts)}" for kw, parts in clauses.items() if parts)
    if len(text.encode()) > MAX_EXPRESSION_BYTES:
        raise ExpressionError(
            f"update expression is {len(text.encode())} bytes; DynamoDB allows "
            f"{MAX_EXPRESSION_BYTES}: split the change into several updates"
        )
    return text


def _top_kind(ph: Placeholders, path: Path) -> ValueKind | None:
    if len(path.elements) != 1:
        return None
    spec = ph.field_of(path)
    return None if spec is None or spec.kind is ValueKind.ANY else spec.kind


def _is_index_key(ph: Placeholders, path: Path) -> bool:
    if ph.spec is None or len(path.elements) != 1:
        return False
    name = path.elements[0]
    return any(
        index.partition.name == name or (index.sort is not None and index.sort.name == name)
        for index in ph.spec.indexes
    )


def _check_index_value(
    ph: Placeholders, path: Path, stored: AttributeValue, index_key: bool
) -> None:
    field = ph.field_of(path) if index_key else None
    if field is not None and ph.spec is not None:
        check_index_key(ph.spec, field, stored)


def _check_nullable(ph: Placeholders, path: Path, value: Any) -> None:
    if value is not None or len(path.elements) != 1:
        return
    spec = ph.field_of(path)
    if spec is not None and not spec.optional and spec.kind is not ValueKind.ANY:
        raise ExpressionError(
            f"{spec.name} is not optional; set a value, or declare it `... | None`"
        )


def _require_kind(ph: Placeholders, path: Path, op: UpdateOp, *kinds: ValueKind) -> None:
    kind = _top_kind(ph, path)
    if kind is not None and kind not in kinds:
        wanted = " or ".join(k.value for k in kinds)
        raise ExpressionError(
            f"{op.lower()} on {path} needs a {wanted} field; it stores {kind.value}"
        )


def _render_action(
    action: UpdateAction, ph: Placeholders, clauses: dict[str, list[str]], seen: list[Path]
) -> None:
    path = action.path
    for earlier in seen:
        if earlier.overlaps(path):
            raise ExpressionError(
                f"two update actions touch overlapping paths {earlier} and {path}"
            )
    seen.append(path)
    op = action.op
    top = ph.field_of(path) if len(path.elements) == 1 else None
    # An Encrypted field can only be replaced whole (its sealed value is set) or removed.
    encrypted = top is not None and top.encrypted and op in ("SET", "REMOVE")
    target = ph.render_path(path, whole_encrypted=encrypted)
    if op == "SET":
        _check_nullable(ph, path, action.value)
        # A NULL index key is rejected by DynamoDB; like to_item, store a missing key (sparse).
        index_key = _is_index_key(ph, path)
        sparse = action.value is None and index_key
        stored = None if sparse else ph.encode_stored(path, action.value)
        if stored is None:  # an empty set or an omit-empty field: stored as absent
            clauses["REMOVE"].append(target)
        else:
            _check_index_value(ph, path, stored, index_key)
            token = ph.value(stored)
            if encrypted and top is not None and "NULL" not in stored:
                ph.sealed[token] = top.attribute  # sealed by the DB before sending
            clauses["SET"].append(f"{target} = {token}")
    elif op == "SET_IF_NOT_EXISTS":
        encoded = ph.encode(path, action.value)
        _check_index_value(ph, path, encoded, _is_index_key(ph, path))
        value = ph.value(encoded)
        clauses["SET"].append(f"{target} = if_not_exists({target}, {value})")
    elif op == "INCREMENT":
        if isinstance(action.value, bool) or action.value is None:
            raise ExpressionError(f"increment of {path} needs a number, got a bool")
        zero = _raw_value(ph, 0)
        by = ph.value(ph.encode(path, action.value))
        clauses["SET"].append(f"{target} = if_not_exists({target}, {zero}) + {by}")
    elif op in ("APPEND", "PREPEND"):
        _require_kind(ph, path, op, ValueKind.LIST)
        empty = _raw_value(ph, [])
        values = _raw_value(ph, action.value)
        current = f"if_not_exists({target}, {empty})"
        pair = (current, values) if op == "APPEND" else (values, current)
        clauses["SET"].append(f"{target} = list_append({pair[0]}, {pair[1]})")
    elif op == "REMOVE":
        clauses["REMOVE"].append(target)
    else:
        if len(path.elements) != 1:
            raise ExpressionError(f"{op} works only on top-level attributes, not {path}")
        value = action.value
        if op == "DELETE":
            _require_kind(ph, path, op, ValueKind.SET)
            if not isinstance(value, set | frozenset) or not value:
                raise ExpressionError(f"delete from {path} needs a non-empty set of values")
        else:
            _require_kind(ph, path, op, ValueKind.SET, ValueKind.NUMBER)
            is_number = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
            if not is_number and not (isinstance(value, set | frozenset) and value):
                raise ExpressionError(f"add to {path} needs a number or a non-empty set")
        clauses[op].append(f"{target} {_raw_value(ph, value)}")
