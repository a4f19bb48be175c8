"""Slotted records: value objects without ``@dataclass`` code generation at import.

``@dataclass`` writes each method it generates as source text and compiles it (and
``slots=True`` builds the class twice): 0.3 to 1.5 ms per class at import. The Lambda cold path
declared sixteen, over half of asyncdynamo's own import time. A record spells out its
``__slots__`` and ``__init__`` (as fast as the generated one); these bases add the rest without
generating code:

- ``==`` (same class, equal fields); frozen records are also hashable and immutable
  (assigning raises ``dataclasses.FrozenInstanceError``), mutable ones are unhashable;
- a dataclass-style ``repr``: fields in ``_hidden`` left out (also of ``==`` and ``hash``),
  fields in ``_redacted`` shown as ``'***'`` unless ``None``;
- pickling and ``copy``;
- ``dataclasses.replace``, ``fields``, ``asdict`` and ``is_dataclass`` (and pydantic, for a
  model field typed with a record): the field descriptions (name, annotation and the
  ``__init__`` default, in order) are built on first use. Code here calls :func:`replace`,
  which needs none.

A record's fields are its ``__slots__``, in the order the class body annotates them (after those
of a record it extends), each taken by ``__init__`` under the same name. A frozen record's
``__init__`` sets them with :data:`setfield`, and :func:`frozen` tells type checkers they are
read-only:

```python
@frozen
class Point(FrozenRecord):
    __slots__ = ("x", "y")
    x: int
    y: int

    def __init__(self, x: int, y: int = 0) -> None:
        setfield(self, "x", x)
        setfield(self, "y", y)
```
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import Field, FrozenInstanceError
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar, dataclass_transform
from weakref import WeakKeyDictionary

__all__ = ["EMPTY", "FrozenRecord", "Record", "frozen", "replace", "setfield"]

R = TypeVar("R", bound="Record")
T = TypeVar("T")

setfield = object.__setattr__
"""Sets a field of a frozen record (in its ``__init__``)."""

EMPTY: Mapping[Any, Any] = MappingProxyType({})
"""The default of a mapping field that means "a new empty dict" (``default_factory=dict``)."""


class _DataclassFields:
    """``__dataclass_fields__`` of a record class, described on first access (what
    ``dataclasses.replace``/``fields``/``asdict``/``is_dataclass`` and pydantic read), then
    cached: each field's annotation, and its default from ``__init__``."""

    def __init__(self) -> None:
        # Per class, not set on it: a description cached on a base would hide a subclass's.
        self._described: WeakKeyDictionary[type[Record], dict[str, Field[Any]]] = (
            WeakKeyDictionary()
        )

    def __get__(self, record: object, owner: type[Record]) -> dict[str, Field[Any]]:
        described = self._described.get(owner)
        if described is None:
            described = self._described[owner] = self._describe(owner)
        return described

    @staticmethod
    def _describe(owner: type[Record]) -> dict[str, Field[Any]]:
        if not owner._fields:  # the bases themselves
            return {}
        import dataclasses

        annotations: dict[str, Any] = {}
        for klass in reversed(owner.__mro__):
            annotations.update(inspect.get_annotations(klass))
        parameters = inspect.signature(owner).parameters
        specs: list[tuple[str, Any, Field[Any]]] = []
        for name in owner._fields:
            options: dict[str, Any] = {}
            if name in owner._hidden:
                options.update(compare=False, repr=False)
            default = parameters[name].default if name in parameters else inspect.Parameter.empty
            if default is EMPTY:
                options["default_factory"] = dict
            elif default is not inspect.Parameter.empty:
                options["default"] = default
            specs.append((name, annotations.get(name, "Any"), dataclasses.field(**options)))
        # A dataclass twin with the same fields, generating no method. It has a docstring:
        # without one, @dataclass writes the class's signature as its __doc__, and the
        # signature of the inherited object.__init__ is parsed from text (tokenize), ≈ 2 ms.
        namespace: dict[str, Any] = {
            "__annotations__": {name: annotation for name, annotation, _ in specs},
            "__doc__": f"The fields of {owner.__qualname__}.",
            **{name: spec for name, _, spec in specs},
        }
        twin: type[Any] = dataclasses.dataclass(init=False, repr=False, eq=False)(
            type(owner.__qualname__, (), namespace)
        )
        return {field.name: field for field in dataclasses.fields(twin)}


def _values(record: Record) -> tuple[Any, ...]:
    return tuple([getattr(record, name) for name in record._compared])


class Record:
    """Base of mutable records: ``==``, ``repr``, pickling, ``dataclasses`` functions."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]] = _DataclassFields()  # type: ignore[assignment]
    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # mutable: unhashable
    _fields: ClassVar[tuple[str, ...]] = ()
    # Fields left out of ==, hash() and repr() (caches, derived helpers).
    _hidden: ClassVar[frozenset[str]] = frozenset()
    # Fields whose value repr() never shows (secrets).
    _redacted: ClassVar[frozenset[str]] = frozenset()
    _compared: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__slots__", ())
        slots = {own} if isinstance(own, str) else set(own)
        fields = tuple(name for name in inspect.get_annotations(cls) if name in slots)
        if len(fields) != len(slots):
            raise TypeError(f"{cls.__qualname__}: annotate every slot (they are its fields)")
        cls._fields = cls._fields + fields
        cls._compared = tuple(name for name in cls._fields if name not in cls._hidden)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return _values(self) == _values(other)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}='***'"
            if name in self._redacted and getattr(self, name) is not None
            else f"{name}={getattr(self, name)!r}"
            for name in self._compared
        )
        return f"{type(self).__qualname__}({shown})"

    def __getstate__(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._fields, state, strict=True):
            setfield(self, name, value)


@dataclass_transform(frozen_default=True)
def frozen(cls: type[T]) -> type[T]:
    """Mark a :class:`FrozenRecord` for type checkers: read-only fields, ``dataclasses.replace``
    checked against them (what a frozen dataclass got). Does nothing at run time."""
    return cls


class FrozenRecord(Record):
    """Base of immutable, hashable records."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:  # type: ignore[override]  # Record's None: mutable ones are not
        return hash(_values(self))


def replace(record: R, /, **changes: Any) -> R:
    """A copy of ``record`` with ``changes`` (``dataclasses.replace``, without describing the
    class first)."""
    values = {name: getattr(record, name) for name in record._fields}
    values.update(changes)
    return type(record)(**values)
