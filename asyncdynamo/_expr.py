"""Typed condition / filter / key-condition expressions, rendered with placeholders.

Every attribute name becomes ``#nN`` and every value ``:vN``, so reserved words and odd
characters never break a request. Paths name model fields (``"amount"``, ``"address.city"``,
``"lines[0].sku"``); the first element is checked against the model and mapped to its stored
attribute name, and values compared with a field are encoded the way that field is stored.

```python
cond = (attr("status") == "pending") & attr("amount").between(100, 500)
```
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._codec import serialize
from ._errors import ExpressionError, SerializationError
from ._placeholders import Placeholders
from ._record import FrozenRecord, frozen, setfield
from ._spec import ValueKind

if TYPE_CHECKING:
    from ._attribute_type import AttributeType

__all__ = [
    "And",
    "Between",
    "Compare",
    "Condition",
    "FunctionCondition",
    "In",
    "Not",
    "Or",
    "Path",
    "Placeholders",
    "Size",
    "all_of",
    "attr",
    "render_condition",
]

MAX_EXPRESSION_BYTES = 4096
MAX_IN_VALUES = 100


# One path segment: a name, a list index, or the dot between names. Compiled on the first
# nested path (a plain field name never needs it); kept here, as looking it up in re's own cache
# (or a functools.cache) costs each nested path more than the check below.
_SEGMENT_PATTERN = r"([^.\[\]]+)|\[(\d+)\]|(\.)"
_segment: re.Pattern[str] | None = None


def _top_kind(ph: Placeholders, operand: Any) -> ValueKind | None:
    if not isinstance(operand, Path) or len(operand.elements) != 1:
        return None
    spec = ph.field_of(operand)
    if spec is None or spec.kind is ValueKind.ANY:
        return None
    return spec.kind


class _Comparable(FrozenRecord):
    """Comparison operators that build conditions (shared by paths and ``size()``)."""

    __slots__ = ()

    def __eq__(self, value: object) -> Compare:  # type: ignore[override]
        return Compare("=", self._operand(), value)

    def __ne__(self, value: object) -> Compare:  # type: ignore[override]
        return Compare("<>", self._operand(), value)

    def __lt__(self, value: Any) -> Compare:
        return Compare("<", self._operand(), value)

    def __le__(self, value: Any) -> Compare:
        return Compare("<=", self._operand(), value)

    def __gt__(self, value: Any) -> Compare:
        return Compare(">", self._operand(), value)

    def __ge__(self, value: Any) -> Compare:
        return Compare(">=", self._operand(), value)

    def between(self, low: Any, high: Any) -> Between:
        return Between(self._operand(), low, high)

    def _operand(self) -> Path | Size:
        assert isinstance(self, Path | Size)
        return self


@frozen
class Path(_Comparable):
    """A document path: a field, then map keys and list indexes."""

    __slots__ = ("elements",)
    elements: tuple[str | int, ...]

    def __init__(self, elements: tuple[str | int, ...]) -> None:
        setfield(self, "elements", elements)

    @classmethod
    def parse(cls, text: str) -> Path:
        if text and "." not in text and "[" not in text and "]" not in text:
            return cls((text,))  # a plain field name, the usual case
        global _segment
        if _segment is None:
            _segment = re.compile(_SEGMENT_PATTERN)
        elements: list[str | int] = []
        position = 0
        expect_name = True
        for match in _segment.finditer(text):
            if match.start() != position:
                break
            position = match.end()
            name, index, dot = match.groups()
            if dot:
                if expect_name:
                    raise ExpressionError(f"invalid path {text!r}: empty name")
                expect_name = True
            elif index is not None:
                if expect_name:
                    raise ExpressionError(f"invalid path {text!r}: index without a name")
                elements.append(int(index))
            else:
                if not expect_name:
                    raise ExpressionError(f"invalid path {text!r}")
                elements.append(name)
                expect_name = False
        if position != len(text) or not elements or expect_name:
            raise ExpressionError(f"invalid path {text!r}; write e.g. 'address.city' or 'lines[0]'")
        return cls(tuple(elements))

    @property
    def top(self) -> str:
        first = self.elements[0]
        assert isinstance(first, str)
        return first

    def __str__(self) -> str:
        out = ""
        for element in self.elements:
            out += (
                f"[{element}]" if isinstance(element, int) else (f".{element}" if out else element)
            )
        return out

    def __getitem__(self, index: int) -> Path:
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ExpressionError(f"list index must be a non-negative int, got {index!r}")
        return Path((*self.elements, index))

    def key(self, name: str) -> Path:
        """The map entry ``name`` inside this path."""
        return Path((*self.elements, name))

    def overlaps(self, other: Path) -> bool:
        shorter = min(len(self.elements), len(other.elements))
        return self.elements[:shorter] == other.elements[:shorter]

    def __hash__(self) -> int:  # type: ignore[override]  # Record says unhashable
        return hash(self.elements)

    def eq(self, value: Any) -> Compare:
        return Compare("=", self, value)

    def ne(self, value: Any) -> Compare:
        return Compare("<>", self, value)

    def is_in(self, values: Iterable[Any]) -> In:
        return In(self, tuple(values))

    def begins_with(self, prefix: Any) -> FunctionCondition:
        return FunctionCondition("begins_with", self, (prefix,))

    def contains(self, value: Any) -> FunctionCondition:
        return FunctionCondition("contains", self, (value,), element=True)

    def exists(self) -> FunctionCondition:
        return FunctionCondition("attribute_exists", self)

    def not_exists(self) -> FunctionCondition:
        return FunctionCondition("attribute_not_exists", self)

    def is_type(self, kind: AttributeType) -> FunctionCondition:
        from ._attribute_type import AttributeType  # only a type test needs the enum

        return FunctionCondition("attribute_type", self, (AttributeType(kind).value,), raw=True)

    def size(self) -> Size:
        return Size(self)


def attr(path: str | Path) -> Path:
    """A path to a model field (``"amount"``, ``"address.city"``, ``"lines[0].sku"``)."""
    return path if isinstance(path, Path) else Path.parse(path)


@frozen
class Size(_Comparable):
    """``size(path)``: length of a string, binary, list, map or set; compare it with numbers."""

    __slots__ = ("path",)
    path: Path

    def __init__(self, path: Path) -> None:
        setfield(self, "path", path)

    def __hash__(self) -> int:  # type: ignore[override]  # as Path.__hash__
        return hash(("size", self.path.elements))


Operand = Path | Size | Any


def _render_operand(ph: Placeholders, operand: Any, against: Path | Size | None) -> str:
    if isinstance(operand, Path):
        return ph.render_path(operand)
    if isinstance(operand, Size):
        return f"size({ph.render_path(operand.path)})"
    if isinstance(against, Size):
        if isinstance(operand, bool) or not isinstance(operand, int):
            raise ExpressionError(f"size() compares with whole numbers, got {operand!r}")
        return ph.value(serialize(operand))
    return ph.value(ph.encode(against, operand))


class _Combinable(FrozenRecord):
    """A condition: combined with ``&``, ``|`` and ``~``; equal only to itself (comparing
    fields would compare paths, and a path's ``==`` builds a condition instead of answering)."""

    __slots__ = ()
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        # `a and b`, `x in paths` and chained `1 < attr("n") < 5` all call bool() and would
        # silently drop part of the condition.
        raise ExpressionError(
            "a condition has no truth value: combine with & | ~ (not and/or/not), "
            "and write ranges as attr(...).between(low, high)"
        )

    def __and__(self, other: Condition) -> And:
        return And((self, other))  # type: ignore[arg-type]

    def __or__(self, other: Condition) -> Or:
        return Or((self, other))  # type: ignore[arg-type]

    def __invert__(self) -> Not:
        return Not(self)  # type: ignore[arg-type]


@frozen
class Compare(_Combinable):
    __slots__ = ("left", "op", "right")
    op: str
    left: Path | Size
    right: Any

    def __init__(self, op: str, left: Path | Size, right: Any) -> None:
        setfield(self, "op", op)
        setfield(self, "left", left)
        setfield(self, "right", right)

    def render(self, ph: Placeholders) -> str:
        left = _render_operand(ph, self.left, None)
        right = _render_operand(ph, self.right, self.left)
        left_kind, right_kind = _top_kind(ph, self.left), _top_kind(ph, self.right)
        if left_kind is not None and right_kind is not None and left_kind is not right_kind:
            raise ExpressionError(
                f"{self.left} ({left_kind.value}) and {self.right} ({right_kind.value}) "
                "store different types; the comparison could never be true"
            )
        return f"{left} {self.op} {right}"


@frozen
class Between(_Combinable):
    __slots__ = ("high", "low", "operand")
    operand: Path | Size
    low: Any
    high: Any

    def __init__(self, operand: Path | Size, low: Any, high: Any) -> None:
        setfield(self, "operand", operand)
        setfield(self, "low", low)
        setfield(self, "high", high)

    def render(self, ph: Placeholders) -> str:
        target = _render_operand(ph, self.operand, None)
        low = _render_operand(ph, self.low, self.operand)
        high = _render_operand(ph, self.high, self.operand)
        return f"{target} BETWEEN {low} AND {high}"


@frozen
class In(_Combinable):
    __slots__ = ("path", "values")
    path: Path | Size
    values: tuple[Any, ...]

    def __init__(self, path: Path | Size, values: tuple[Any, ...]) -> None:
        setfield(self, "path", path)
        setfield(self, "values", values)

    def render(self, ph: Placeholders) -> str:
        if not self.values:
            raise ExpressionError("IN needs at least one value")
        if len(self.values) > MAX_IN_VALUES:
            raise ExpressionError(
                f"IN takes at most {MAX_IN_VALUES} values, got {len(self.values)}"
            )
        target = _render_operand(ph, self.path, None)
        tokens = ", ".join(_render_operand(ph, v, self.path) for v in self.values)
        return f"{target} IN ({tokens})"


@frozen
class FunctionCondition(_Combinable):
    """``begins_with``, ``contains``, ``attribute_exists``, ``attribute_not_exists``, ``attribute_type``."""

    __slots__ = ("args", "element", "function", "path", "raw")
    function: str
    path: Path
    args: tuple[Any, ...]
    raw: bool
    element: bool

    def __init__(
        self,
        function: str,
        path: Path,
        args: tuple[Any, ...] = (),
        raw: bool = False,
        element: bool = False,
    ) -> None:
        setfield(self, "function", function)
        setfield(self, "path", path)
        setfield(self, "args", args)
        setfield(self, "raw", raw)
        setfield(self, "element", element)

    def render(self, ph: Placeholders) -> str:
        parts = [ph.render_path(self.path)]
        for arg in self.args:
            if isinstance(arg, Path):
                parts.append(ph.render_path(arg))
            elif self.raw or self.element:
                # contains() takes an element of a set/list, or a substring: no field typing.
                try:
                    parts.append(ph.value(serialize(arg)))
                except SerializationError as exc:
                    raise ExpressionError(str(exc)) from exc
            else:
                encoded = ph.encode(self.path, arg)
                if self.function == "begins_with" and next(iter(encoded)) not in ("S", "B"):
                    raise ExpressionError(
                        f"begins_with({self.path}, ...) needs a string or bytes prefix, got {arg!r}"
                    )
                parts.append(ph.value(encoded))
        return f"{self.function}({', '.join(parts)})"


@frozen
class And(_Combinable):
    __slots__ = ("conditions",)
    conditions: tuple[Condition, ...]

    def __init__(self, conditions: tuple[Condition, ...]) -> None:
        setfield(self, "conditions", conditions)

    def __and__(self, other: Condition) -> And:
        return And((*self.conditions, other))

    def render(self, ph: Placeholders) -> str:
        return " AND ".join(f"({c.render(ph)})" for c in self.conditions)


@frozen
class Or(_Combinable):
    __slots__ = ("conditions",)
    conditions: tuple[Condition, ...]

    def __init__(self, conditions: tuple[Condition, ...]) -> None:
        setfield(self, "conditions", conditions)

    def __or__(self, other: Condition) -> Or:
        return Or((*self.conditions, other))

    def render(self, ph: Placeholders) -> str:
        return " OR ".join(f"({c.render(ph)})" for c in self.conditions)


@frozen
class Not(_Combinable):
    __slots__ = ("condition",)
    condition: Condition

    def __init__(self, condition: Condition) -> None:
        setfield(self, "condition", condition)

    def render(self, ph: Placeholders) -> str:
        return f"NOT ({self.condition.render(ph)})"


Condition = Compare | Between | In | FunctionCondition | And | Or | Not


def all_of(conditions: Sequence[Condition | None]) -> Condition | None:
    """AND the given conditions, skipping ``None``; ``None`` when there are none."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return And(tuple(present))


def render_condition(condition: Condition, ph: Placeholders) -> str:
    """Render ``condition`` into ``ph``, enforcing DynamoDB's expression size limit."""
    text = condition.render(ph)
    if len(text.encode()) > MAX_EXPRESSION_BYTES:
        raise ExpressionError(
            f"expression is {len(text.encode())} bytes; DynamoDB allows {MAX_EXPRESSION_BYTES}"
        )
    return text
