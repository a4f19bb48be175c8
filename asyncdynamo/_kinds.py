"""What a field's values look like in DynamoDB, read from its type annotation."""

from __future__ import annotations

import enum
import types
import typing
import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Union

__all__ = ["ValueKind", "is_time", "kind_of", "strip_optional"]


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
