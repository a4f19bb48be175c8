"""Opaque, signed pagination cursors bound to the query that produced them.

A cursor is DynamoDB's ``LastEvaluatedKey`` encoded as compact JSON, then base64url, followed by
an HMAC-SHA256 tag. The tag covers a digest of the request's *shape* (table, index, key
condition, filter, direction, scan segment; with their placeholder values), so a cursor replayed
against another query, or edited by a client, fails with :class:`CursorError` before any
request is sent: a client can neither forge a start key nor page through data another query
would not show.

The key is ``Config.cursor_secret``. Without one, each DB draws a random secret: cursors then
only work within the process (and DB) that issued them, which is fine for a single Lambda
invocation but not for handing cursors to API clients across invocations.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

from ._codec import AttributeValue
from ._errors import CursorError

__all__ = ["CursorCodec", "request_binding"]

_VERSION = b"1"
_TAG_BYTES = 32
_KEY_TAGS = frozenset({"S", "N", "B"})
# Parts of a request that decide which items a page walks over; anything else (Limit,
# projection, ConsistentRead) may differ between the page that issued a cursor and the next.
_BINDING_FIELDS = (
    "TableName",
    "IndexName",
    "KeyConditionExpression",
    "FilterExpression",
    "ExpressionAttributeNames",
    "ExpressionAttributeValues",
    "ScanIndexForward",
    "Segment",
    "TotalSegments",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_jsonable(v) for v in value), key=repr)
    return value


def request_binding(params: Mapping[str, Any]) -> bytes:
    """A digest of what makes a Query/Scan request the *same* query (for cursor binding).

    Projection-only placeholders are included too (they share one names map), which only makes
    the binding stricter, never looser.
    """
    shape = {name: _jsonable(params[name]) for name in _BINDING_FIELDS if name in params}
    canonical = json.dumps(shape, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CursorError("the cursor is not valid base64url") from exc


class CursorCodec:
    """Signs and verifies cursors with one secret.

    Args:
        secret: the HMAC key; ``None`` draws a random 32-byte one (process-local cursors).
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes | None = None) -> None:
        if secret is not None and len(secret) < 16:
            raise CursorError("Config.cursor_secret must be at least 16 bytes")
        self._secret = secret if secret is not None else secrets.token_bytes(32)

    def _tag(self, binding: bytes, payload: bytes) -> bytes:
        return hmac.new(self._secret, _VERSION + binding + payload, hashlib.sha256).digest()

    def encode(self, key: Mapping[str, AttributeValue], binding: bytes) -> str:
        """The cursor for resuming after ``key`` (a ``LastEvaluatedKey``) in the bound query."""
        compact: dict[str, list[str]] = {}
        for name, value in key.items():
            ((tag, raw),) = value.items()
            if tag not in _KEY_TAGS:
                raise CursorError(f"a key attribute cannot be of type {tag}")
            text = base64.b64encode(bytes(raw)).decode() if tag == "B" else str(raw)
            compact[name] = [tag, text]
        payload = json.dumps(compact, sort_keys=True, separators=(",", ":")).encode()
        return _VERSION.decode() + _b64encode(payload + self._tag(binding, payload))

    def decode(self, cursor: str, binding: bytes) -> dict[str, AttributeValue]:
        """The ``ExclusiveStartKey`` in ``cursor``.

        Raises:
            CursorError: the cursor is malformed, was altered, was signed with another secret,
                or was issued for another query.
        """
        if not isinstance(cursor, str) or not cursor.startswith(_VERSION.decode()):
            raise CursorError("this is not an asyncdynamo cursor (or one from another version)")
        raw = _b64decode(cursor[len(_VERSION) :])
        if len(raw) <= _TAG_BYTES:
            raise CursorError("the cursor is truncated")
        payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(binding, payload)):
            raise CursorError(
                "the cursor was altered, signed with another secret, or belongs to another query"
            )
        try:
            compact = json.loads(payload)
            key: dict[str, AttributeValue] = {}
            for name, (tag_name, text) in compact.items():
                if tag_name not in _KEY_TAGS or not isinstance(text, str):
                    raise ValueError(tag_name)
                key[name] = {tag_name: base64.b64decode(text) if tag_name == "B" else text}
        except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
            # A valid tag over a bad payload means our own encoder wrote it: still refuse it.
            raise CursorError("the cursor payload is malformed") from exc
        return key
