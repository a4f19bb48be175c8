"""Deterministic JSON text for ``JsonBlob`` fields (DMS ``json: true``).

Compact (no insignificant whitespace), object keys sorted at every level, UTF-8 kept as is.
Numbers are exact: ``int`` and ``Decimal`` keep their digits, a ``float`` is written as Go's
``encoding/json`` writes a float64 (integral values without ``.0``; exponent form only below
1e-6 or from 1e21). Reading parses fractions as ``Decimal``, so a value read and written back
keeps its digits. Datetimes inside a document are written as DMS timestamps.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from .._codec import model_values
from .._errors import SerializationError
from ._time import format_time

__all__ = ["json_text", "parse_json"]

_string = json.JSONEncoder(ensure_ascii=False).encode


def _float_text(value: float) -> str:
    if not math.isfinite(value):
        raise SerializationError(f"JSON cannot hold the number {value}")
    magnitude = abs(value)
    if value.is_integer() and magnitude < 1e21:
        return str(int(value))
    if magnitude < 1e-6 or magnitude >= 1e21:
        # repr uses the exponent form in exactly this range; Go writes the exponent unpadded.
        mantissa, _, exponent = repr(value).partition("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    return format(Decimal(repr(value)), "f")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True or value is False:
        out.append("true" if value else "false")
    elif isinstance(value, enum.Enum):
        _write(value.value, out)
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_float_text(float(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise SerializationError(f"JSON cannot hold the number {value}")
        out.append(format(value, "f"))
    elif isinstance(value, datetime):
        out.append(_string(format_time(value)))
    elif isinstance(value, BaseModel):
        _write(model_values(value), out)  # the values it holds, keyed as pydantic reads them
    elif isinstance(value, Mapping):
        out.append("{")
        for position, key in enumerate(sorted(value, key=_key_text)):
            if position:
                out.append(",")
            out.append(_string(_key_text(key)))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for position, element in enumerate(value):
            if position:
                out.append(",")
            _write(element, out)
        out.append("]")
    else:
        raise SerializationError(
            f"a {type(value).__name__} has no JSON form; use dicts, lists, strings, numbers, "
            "booleans, None or datetimes"
        )


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    raise SerializationError(f"JSON object keys must be strings, got {key!r}")


def json_text(value: Any) -> str:
    """The deterministic JSON text of ``value``."""
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def parse_json(text: str) -> Any:
    """Parse JSON text, fractions as ``Decimal`` (raises ``ValueError`` when it is not JSON)."""
    return json.loads(text, parse_float=Decimal)
