"""Idempotency keys and the canonical SHA-256 hash of a request."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from ._card import CardDetails
from ._errors import InvalidIdempotencyKeyError
from ._money import Money

__all__ = ["MAX_KEY_LENGTH", "canonical_hash", "canonical_json", "check_idempotency_key"]

MAX_KEY_LENGTH = 255


def check_idempotency_key(key: object) -> str:
    """Return ``key`` if it is 1 to 255 printable characters, else raise.

    Raises:
        InvalidIdempotencyKeyError: empty, too long, not a string, or with control characters.
    """
    if not isinstance(key, str) or not key:
        raise InvalidIdempotencyKeyError("an idempotency key is a non-empty string")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKeyError(
            f"an idempotency key is at most {MAX_KEY_LENGTH} characters, got {len(key)}"
        )
    if not key.isprintable():
        raise InvalidIdempotencyKeyError("an idempotency key holds printable characters only")
    return key


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data with one spelling per meaning."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, CardDetails):
        return value.canonical()  # never the card number
    if isinstance(value, Money):
        return {"minor": value.minor, "currency": value.currency}
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Decimal):
        return str(value.normalize()) if value.is_finite() else str(value)
    if isinstance(value, float):
        return str(Decimal(repr(value)).normalize())
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="python"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    raise TypeError(f"cannot hash a {type(value).__name__} in an idempotent request")


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: equal requests give equal text whatever their key order."""
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_hash(value: Any) -> str:
    """The hex SHA-256 of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
