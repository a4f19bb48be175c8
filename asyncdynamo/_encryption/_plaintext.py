"""An AttributeValue ⇄ the bytes that get sealed (the codec serializes first, then we seal).

One leading byte says what follows: ``S`` UTF-8 text, ``N`` the number's text, ``B`` raw bytes,
``T``/``F`` a boolean, ``J`` any other AttributeValue (sets, lists, maps) as compact JSON with
binary values in base64. The common scalar cases cost no JSON at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .._codec import AttributeValue
from .._errors import DecryptionFailedError, SerializationError

__all__ = ["decode_value", "encode_value"]


def _to_json(value: AttributeValue) -> Any:
    ((tag, raw),) = value.items()
    if tag == "B":
        return {"B": base64.b64encode(bytes(raw)).decode("ascii")}
    if tag == "BS":
        return {"BS": [base64.b64encode(bytes(b)).decode("ascii") for b in raw]}
    if tag == "L":
        return {"L": [_to_json(v) for v in raw]}
    if tag == "M":
        return {"M": {k: _to_json(v) for k, v in raw.items()}}
    return {tag: raw}


def _from_json(value: Any) -> AttributeValue:
    ((tag, raw),) = value.items()
    if tag == "B":
        return {"B": base64.b64decode(raw)}
    if tag == "BS":
        return {"BS": [base64.b64decode(b) for b in raw]}
    if tag == "L":
        return {"L": [_from_json(v) for v in raw]}
    if tag == "M":
        return {"M": {k: _from_json(v) for k, v in raw.items()}}
    return {tag: raw}


def encode_value(value: AttributeValue) -> bytes:
    """The plaintext bytes of one AttributeValue."""
    ((tag, raw),) = value.items()
    try:
        if tag == "S":
            return b"S" + str(raw).encode()
        if tag == "N":
            return b"N" + str(raw).encode("ascii")
        if tag == "B":
            return b"B" + bytes(raw)
        if tag == "BOOL":
            return b"T" if raw else b"F"
        text = json.dumps(_to_json(value), separators=(",", ":"), ensure_ascii=False)
        return b"J" + text.encode()
    except UnicodeEncodeError as exc:
        raise SerializationError(
            "a value to encrypt is not valid Unicode text (a lone surrogate?)"
        ) from exc


def decode_value(data: bytes) -> AttributeValue:
    """The AttributeValue that :func:`encode_value` turned into ``data``."""
    kind, rest = data[:1], data[1:]
    try:
        if kind == b"S":
            return {"S": rest.decode()}
        if kind == b"N":
            return {"N": rest.decode("ascii")}
        if kind == b"B":
            return {"B": rest}
        if kind in (b"T", b"F") and not rest:
            return {"BOOL": kind == b"T"}
        if kind == b"J":
            return _from_json(json.loads(rest))
    except (ValueError, TypeError, AttributeError) as exc:
        raise DecryptionFailedError("an opened value is not a valid encoded value") from exc
    raise DecryptionFailedError("an opened value has an unknown encoding")
