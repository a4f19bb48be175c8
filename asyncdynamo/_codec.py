"""Python values ⇄ DynamoDB AttributeValues, by exact-type dispatch for speed.

Numbers never pass through ``float``: ``int`` and ``Decimal`` are written as their exact decimal
strings, a ``float`` is converted through ``str`` (``0.1`` is stored as ``0.1``, not as its binary
expansion), and numbers are read back as ``int`` when integral and ``Decimal`` otherwise.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel

from ._errors import SerializationError

__all__ = [
    "MAX_NESTING_DEPTH",
    "AttributeValue",
    "deserialize",
    "deserialize_item",
    "encode_number",
    "model_values",
    "serialize",
    "serialize_item",
]

AttributeValue = dict[str, Any]

# DynamoDB numbers: up to 38 significant digits, magnitude within [1e-130, 1e126).
_MAX_ADJUSTED_EXPONENT = 125
_MIN_ADJUSTED_EXPONENT = -130
_MAX_DIGITS = 38
# DynamoDB supports documents 32 levels deep, counting the attribute itself as level 1: an
# attribute's value may hold maps/lists 31 deep (the innermost values at level 32).
MAX_NESTING_DEPTH = 32
_MAX_CONTAINERS = MAX_NESTING_DEPTH - 1


def _check_decimal(value: Decimal) -> str:
    text = str(value)
    # Fast path: a short plain decimal has at most 38 digits and is within range. "Infinity"
    # ends in a letter, which sorts after every digit; a NaN with a payload ("NaN123",
    # "sNaN1") ends in a digit but holds an "N", which no finite number's text does.
    if len(text) <= _MAX_DIGITS and text[-1] <= "9" and "E" not in text and "N" not in text:
        return text
    if not value.is_finite():
        raise SerializationError(f"DynamoDB cannot store the number {value}; use a finite value")
    if value and not _MIN_ADJUSTED_EXPONENT <= value.adjusted() <= _MAX_ADJUSTED_EXPONENT:
        raise SerializationError(f"the number {value} is outside DynamoDB's range 1e-130..1e126")
    digits = value.as_tuple().digits
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    if significant > _MAX_DIGITS:
        raise SerializationError(
            f"the number {value} has {significant} significant digits; DynamoDB keeps at most 38"
        )
    return text


def _int_text(value: int) -> str:
    text = str(value)
    # 39+ characters may still be fine (10**40 has one significant digit): check exactly.
    return text if len(text) <= _MAX_DIGITS else _check_decimal(Decimal(text))


def encode_number(value: int | float | Decimal) -> str:
    """The exact DynamoDB ``N`` string for a number, or a SerializationError."""
    kind = type(value)
    if kind is int:
        return _int_text(value)  # type: ignore[arg-type]
    if kind is Decimal:
        return _check_decimal(value)  # type: ignore[arg-type]
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
    kinds = {type(v) for v in value}
    if kinds == _STR_ONLY:
        # Sorted: a set's iteration order changes with the process's hash seed, and a request
        # rebuilt under an idempotency token must be byte-for-byte the same.
        return {"SS": sorted(value)}
    if kinds <= _NUMBER_TYPES:
        numbers = []
        for number in value:
            kind = type(number)
            if kind is Decimal:
                numbers.append(_check_decimal(number))
            elif kind is int:
                numbers.append(_int_text(number))
            else:
                numbers.append(encode_number(number))
        # Python keeps 0.1 and Decimal("0.1") apart; DynamoDB would see a duplicate.
        if float in kinds and len(kinds) > 1 and len({Decimal(n) for n in numbers}) != len(numbers):
            raise SerializationError(
                "a number set holds two equal numbers (e.g. 0.1 and Decimal('0.1'))"
            )
        return {"NS": sorted(numbers)}
    if kinds <= _BYTES_TYPES:
        return {"BS": sorted(bytes(v) for v in value)}
    if any(issubclass(kind, enum.Enum) for kind in kinds):
        # Enum members are stored by value, as everywhere else (``str(member)`` of a
        # ``class Color(str, Enum)`` is "Color.RED", which would not read back).
        return _set_value(frozenset(v.value if isinstance(v, enum.Enum) else v for v in value))
    if all(isinstance(v, str) for v in value):
        return {"SS": sorted(str.__str__(v) for v in value)}
    if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in value):
        return {"NS": sorted(encode_number(v) for v in value)}
    names = ", ".join(sorted(k.__name__ for k in kinds))
    raise SerializationError(
        f"a set holds {names}; sets must be all strings, all numbers or all bytes"
    )


_NUMBER_TYPES = frozenset({int, float, Decimal})
_STR_ONLY = frozenset({str})
_BYTES_TYPES = frozenset({bytes, bytearray})


def _too_deep() -> SerializationError:
    return SerializationError(
        f"a value nests maps/lists more than {_MAX_CONTAINERS} deep; DynamoDB stores documents "
        f"at most {MAX_NESTING_DEPTH} levels deep, counting the attribute itself (flatten the "
        "document, or store it as a string)"
    )


def _map_key(key: Any) -> str:
    name = key.value if isinstance(key, enum.Enum) else key
    if not isinstance(name, str):
        raise SerializationError(f"map keys must be strings, got {key!r}")
    if not name:
        raise SerializationError(
            "DynamoDB rejects an empty attribute name (map key ''); give every key a name"
        )
    return str.__str__(name)


def _encode_list(value: list[Any] | tuple[Any, ...], depth: int) -> AttributeValue:
    if depth >= _MAX_CONTAINERS:
        raise _too_deep()
    depth += 1
    return {"L": [{"S": v} if type(v) is str else _encode(v, depth) for v in value]}


def _encode_map(item: Mapping[Any, Any], depth: int) -> dict[str, AttributeValue]:
    """Encode the entries of a map whose values sit ``depth`` containers deep."""
    out: dict[str, AttributeValue] = {}
    for key, value in item.items():
        if type(key) is not str or not key:
            key = _map_key(key)
        kind = type(value)
        # The commonest types are encoded inline: this loop is the hot path of every write.
        if kind is str:
            out[key] = {"S": value}
        elif kind is int:
            text = str(value)
            out[key] = {"N": text if len(text) <= _MAX_DIGITS else _int_text(value)}
        elif kind is Decimal:
            out[key] = {"N": _check_decimal(value)}
        else:
            encoder = _SCALARS.get(kind)
            out[key] = encoder(value) if encoder is not None else _encode(value, depth)
    return out


def _nested_map(value: Mapping[Any, Any], depth: int) -> AttributeValue:
    if depth >= _MAX_CONTAINERS:
        raise _too_deep()
    return {"M": _encode_map(value, depth + 1)}


def serialize_item(item: Mapping[str, Any]) -> dict[str, AttributeValue]:
    """Encode a whole item (attribute name → Python value) into wire format."""
    return _encode_map(item, 0)


def deserialize_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Decode a whole wire-format item into attribute name → Python value."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        string = value.get("S")
        out[key] = string if string is not None else deserialize(value)
    return out


_MODEL_KEYS: dict[type[BaseModel], tuple[tuple[str, str, Any], ...]] = {}


def _storage_key(model: type[BaseModel], name: str) -> str:
    """The key pydantic reads field ``name`` from when validating (its validation alias)."""
    info = model.model_fields[name]
    if model.model_config.get("validate_by_alias", True) is False:
        return name
    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0] if alias.choices else None
        return first if isinstance(first, str) else name
    return info.alias or name


def model_values(instance: BaseModel) -> dict[str, Any]:
    """A nested model's field values, keyed the way pydantic reads them back.

    The values the model *holds*, not its ``model_dump()`` output view: a field with
    ``Field(exclude=True)`` is kept and a ``field_serializer`` does not change what is stored
    (a ``Json[...]`` field, which pydantic reads only from text, is kept as its JSON text).
    """
    model = type(instance)
    keys = _MODEL_KEYS.get(model)
    if keys is None:
        from ._declare import json_adapter

        keys = tuple(
            (name, _storage_key(model, name), json_adapter(info))
            for name, info in model.model_fields.items()
        )
        _MODEL_KEYS[model] = keys
    values: dict[str, Any] = {}
    for name, key, adapter in keys:
        value = getattr(instance, name)
        # A Json[...] field is read back only from JSON text: store the text it round-trips.
        values[key] = value if adapter is None else adapter.dump_python(value, round_trip=True)
    extra = instance.__pydantic_extra__
    if extra:
        values.update(extra)
    return values


def _serialize_decimal(value: Decimal) -> AttributeValue:
    return {"N": _check_decimal(value)}


def _serialize_str(value: str) -> AttributeValue:
    return {"S": value}


def _serialize_bool(value: bool) -> AttributeValue:
    return {"BOOL": value}


def _serialize_int(value: int) -> AttributeValue:
    return {"N": _int_text(value)}


def _serialize_bytes(value: bytes | bytearray) -> AttributeValue:
    return {"B": value if type(value) is bytes else bytes(value)}


def _serialize_none(value: None) -> AttributeValue:
    return {"NULL": True}


# Values that hold no other values, by exact type (containers track their nesting depth).
_SCALARS: dict[type, Callable[[Any], AttributeValue]] = {
    str: _serialize_str,
    bool: _serialize_bool,
    int: _serialize_int,
    Decimal: _serialize_decimal,
    float: lambda v: {"N": encode_number(v)},
    type(None): _serialize_none,
    bytes: _serialize_bytes,
    bytearray: _serialize_bytes,
    set: _set_value,
    frozenset: _set_value,
    datetime: lambda v: {"S": _datetime_text(v)},
    date: lambda v: {"S": v.isoformat()},
    uuid.UUID: lambda v: {"S": str(v)},
}


def serialize(value: Any) -> AttributeValue:
    """Encode one Python value as a DynamoDB AttributeValue.

    Enum members are stored by value (also inside sets, lists and maps); a nested pydantic
    model as a map of the field values it holds (see :func:`model_values`).

    Raises:
        SerializationError: the value cannot be represented (NaN, naive datetime, empty set,
            an empty map key, maps/lists nested deeper than DynamoDB's 32 levels...).
    """
    return _encode(value, 0)


def _encode(value: Any, depth: int) -> AttributeValue:
    """Encode ``value``, which sits inside ``depth`` maps/lists."""
    kind = type(value)
    # The commonest types first, without a call: this is the hot path of every write.
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": _int_text(value)}
    if kind is dict:
        return _nested_map(value, depth)
    if kind is list or kind is tuple:
        return _encode_list(value, depth)
    encoder = _SCALARS.get(kind)
    if encoder is not None:
        return encoder(value)
    # Subclasses (StrEnum, IntEnum, user dict types) take the slower isinstance path.
    if isinstance(value, enum.Enum):
        return _encode(value.value, depth)
    if isinstance(value, BaseModel):
        return _nested_map(model_values(value), depth)
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if isinstance(value, str):
        return {"S": str.__str__(value)}
    if isinstance(value, int | float | Decimal):
        return {"N": encode_number(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": bytes(value)}
    if isinstance(value, datetime):
        return {"S": _datetime_text(value)}
    if isinstance(value, Mapping):
        return _nested_map(value, depth)
    if isinstance(value, list | tuple):
        return _encode_list(value, depth)
    if isinstance(value, set | frozenset):
        return _set_value(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # pydantic validates a dataclass field from a dict of its fields.
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _nested_map(fields, depth)
    raise SerializationError(f"cannot store a value of type {type(value).__name__}: {value!r}")


def _number(text: str) -> int | Decimal:
    # DynamoDB returns numbers normalised ("1.5", "100"), so the text alone says int or not.
    if "." in text or "e" in text or "E" in text:
        return Decimal(text)
    return int(text)


def _binary(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    # Some endpoints hand back base64 text when a client did not decode it.
    return base64.b64decode(value)


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "BOOL": lambda raw: raw,
    "NULL": lambda raw: None,
    "B": _binary,
    "SS": set,
    "NS": lambda raw: {_number(n) for n in raw},
    "BS": lambda raw: {_binary(b) for b in raw},
}


def deserialize(value: Mapping[str, Any]) -> Any:
    """Decode one DynamoDB AttributeValue into Python.

    ``N`` → ``int`` unless it has a fraction or exponent (then ``Decimal``); ``SS``/``NS``/``BS`` →
    ``set``; ``M`` → ``dict``; ``L`` → ``list``; ``NULL`` → ``None``.
    """
    try:
        ((tag, raw),) = value.items()
    except ValueError:
        raise SerializationError(
            f"an AttributeValue has exactly one type key, got {value!r}"
        ) from None
    if tag == "S":
        return raw
    if tag == "N":
        return _number(raw)
    if tag == "M":
        return deserialize_item(raw)
    if tag == "L":
        return [deserialize(v) for v in raw]
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise SerializationError(f"unknown AttributeValue type {tag!r}")
    return decoder(raw)
