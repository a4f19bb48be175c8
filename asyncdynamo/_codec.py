"""Python values ⇄ DynamoDB AttributeValues, by exact-type dispatch for speed.

Numbers never pass through ``float``: ``int`` and ``Decimal`` are written as their exact decimal
strings, a ``float`` is converted through ``str`` (``0.1`` is stored as ``0.1``, not as its binary
expansion), and numbers are read back as ``int`` when integral and ``Decimal`` otherwise.
"""

from __future__ import annotations

import base64
import enum
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ._errors import SerializationError

__all__ = ["AttributeValue", "deserialize", "encode_number", "serialize"]

AttributeValue = dict[str, Any]

# DynamoDB numbers: up to 38 significant digits, magnitude within [1e-130, 1e126).
_MAX_ADJUSTED_EXPONENT = 125
_MIN_ADJUSTED_EXPONENT = -130
_MAX_DIGITS = 38


def _check_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise SerializationError(f"DynamoDB cannot store the number {value}; use a finite value")
    if value:
        adjusted = value.adjusted()
        if not _MIN_ADJUSTED_EXPONENT <= adjusted <= _MAX_ADJUSTED_EXPONENT:
            raise SerializationError(
                f"the number {value} is outside DynamoDB's range 1e-130..1e126"
            )
        digits = value.as_tuple().digits
        significant = len(digits)
        while significant > 1 and digits[significant - 1] == 0:
            significant -= 1
        if significant > _MAX_DIGITS:
            raise SerializationError(
                f"the number {value} has {significant} significant digits; DynamoDB keeps at most 38"
            )
    return str(value)


def encode_number(value: int | float | Decimal) -> str:
    """The exact DynamoDB ``N`` string for a number, or a SerializationError."""
    kind = type(value)
    if kind is int:
        text = str(value)
        if len(text.lstrip("-")) > 38:
            return _check_decimal(Decimal(text))
        return text
    if kind is float:
        return _check_decimal(Decimal(repr(value)))
    if isinstance(value, bool):
        raise SerializationError("a bool is not a number; store it as BOOL")
    if isinstance(value, Decimal):
        return _check_decimal(value)
    if isinstance(value, int):
        return encode_number(int(value))
    if isinstance(value, float):
        return encode_number(float(value))
    raise SerializationError(f"{value!r} is not a number")


def _datetime_text(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise SerializationError(
            f"naive datetime {value.isoformat()} is ambiguous; give it a timezone (e.g. UTC)"
        )
    # Fixed width (always microseconds) keeps lexicographic order equal to time order in keys.
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _set_value(value: set[Any] | frozenset[Any]) -> AttributeValue:
    if not value:
        raise SerializationError(
            "DynamoDB cannot store an empty set; omit the attribute or use None"
        )
    first = next(iter(value))
    if isinstance(first, str):
        if not all(isinstance(v, str) for v in value):
            raise SerializationError("a set mixes strings with other types")
        return {"SS": sorted(value)}
    if isinstance(first, bytes | bytearray):
        if not all(isinstance(v, bytes | bytearray) for v in value):
            raise SerializationError("a set mixes bytes with other types")
        return {"BS": sorted(bytes(v) for v in value)}
    if isinstance(first, int | float | Decimal) and not isinstance(first, bool):
        if not all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value):
            raise SerializationError("a set mixes numbers with other types")
        numbers = [encode_number(v) for v in value]
        if len({Decimal(n) for n in numbers}) != len(numbers):
            raise SerializationError("a number set holds two equal numbers (e.g. 1 and 1.0)")
        return {"NS": sorted(numbers, key=Decimal)}
    raise SerializationError(
        f"sets of {type(first).__name__} cannot be stored; use str, number or bytes elements"
    )


def _serialize_list(value: list[Any] | tuple[Any, ...]) -> AttributeValue:
    return {"L": [serialize(v) for v in value]}


def _serialize_map(value: Mapping[Any, Any]) -> AttributeValue:
    out: dict[str, AttributeValue] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise SerializationError(f"map keys must be strings, got {key!r}")
        out[key] = serialize(item)
    return {"M": out}


def _serialize_str(value: str) -> AttributeValue:
    return {"S": value}


def _serialize_bool(value: bool) -> AttributeValue:
    return {"BOOL": value}


def _serialize_int(value: int) -> AttributeValue:
    return {"N": encode_number(value)}


def _serialize_bytes(value: bytes | bytearray) -> AttributeValue:
    return {"B": bytes(value)}


def _serialize_none(value: None) -> AttributeValue:
    return {"NULL": True}


_EXACT: dict[type, Callable[[Any], AttributeValue]] = {
    str: _serialize_str,
    bool: _serialize_bool,
    int: _serialize_int,
    Decimal: lambda v: {"N": _check_decimal(v)},
    float: lambda v: {"N": encode_number(v)},
    type(None): _serialize_none,
    bytes: _serialize_bytes,
    bytearray: _serialize_bytes,
    dict: _serialize_map,
    list: _serialize_list,
    tuple: _serialize_list,
    set: _set_value,
    frozenset: _set_value,
    datetime: lambda v: {"S": _datetime_text(v)},
    date: lambda v: {"S": v.isoformat()},
    uuid.UUID: lambda v: {"S": str(v)},
}


def serialize(value: Any) -> AttributeValue:
    """Encode one Python value as a DynamoDB AttributeValue.

    Raises:
        SerializationError: the value cannot be represented (NaN, naive datetime, empty set...).
    """
    encoder = _EXACT.get(type(value))
    if encoder is not None:
        return encoder(value)
    # Subclasses (StrEnum, IntEnum, user dict types) take the slower isinstance path.
    if isinstance(value, enum.Enum):
        return serialize(value.value)
    if isinstance(value, BaseModel):
        return _serialize_map(value.model_dump(mode="python", by_alias=True))
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if isinstance(value, str):
        return {"S": str(value)}
    if isinstance(value, int | float | Decimal):
        return {"N": encode_number(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": bytes(value)}
    if isinstance(value, datetime):
        return {"S": _datetime_text(value)}
    if isinstance(value, Mapping):
        return _serialize_map(value)
    if isinstance(value, list | tuple):
        return _serialize_list(value)
    if isinstance(value, set | frozenset):
        return _set_value(value)
    raise SerializationError(f"cannot store a value of type {type(value).__name__}: {value!r}")


def _number(text: str) -> int | Decimal:
    if "." not in text and "e" not in text and "E" not in text:
        return int(text)
    number = Decimal(text)
    if number == number.to_integral_value() and abs(number) < Decimal("1e38"):
        return int(number)
    return number


def _binary(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    # Some endpoints hand back base64 text when a client did not decode it.
    return base64.b64decode(value)


def deserialize(value: Mapping[str, Any]) -> Any:
    """Decode one DynamoDB AttributeValue into Python.

    ``N`` → ``int`` when integral else ``Decimal``; ``SS``/``NS``/``BS`` → ``set``; ``M`` → ``dict``;
    ``L`` → ``list``; ``NULL`` → ``None``.
    """
    if len(value) != 1:
        raise SerializationError(f"an AttributeValue has exactly one type key, got {value!r}")
    ((tag, raw),) = value.items()
    if tag == "S":
        return raw
    if tag == "N":
        return _number(raw)
    if tag == "M":
        return {k: deserialize(v) for k, v in raw.items()}
    if tag == "L":
        return [deserialize(v) for v in raw]
    if tag == "BOOL":
        return raw
    if tag == "NULL":
        return None
    if tag == "B":
        return _binary(raw)
    if tag == "SS":
        return set(raw)
    if tag == "NS":
        return {_number(n) for n in raw}
    if tag == "BS":
        return {_binary(b) for b in raw}
    raise SerializationError(f"unknown AttributeValue type {tag!r}")
