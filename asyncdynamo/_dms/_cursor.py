"""DynamORM's pagination cursor: unsigned base64url JSON, readable and writable by both sides.

Text: URL-safe base64 *with* padding of the UTF-8 JSON object ``{"lastKey": {...}, "index":
name, "sort": "ASC"|"DESC"}`` in that key order, without whitespace, ``index`` only for an index
read and ``sort`` only for a query. ``lastKey`` maps each key attribute to a DynamoDB-JSON value
(``{"S": ...}``, ``{"N": ...}``, ``{"B": standard base64}``), names sorted.

Such a cursor is not signed (DMS defines none): a client can edit it. Decoding therefore checks
what can be checked without a signature: the cursor belongs to the same index and direction, and
its start key holds exactly that target's key attributes with key types. It cannot stop a client
from choosing another start position within the query; use asyncdynamo's signed cursors when
that matters.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from .._codec import AttributeValue
from .._errors import CursorError
from .._spec import TableSpec

__all__ = ["DYNAMORM_CURSORS", "DynamormCursors"]

_KEY_TAGS = ("S", "N", "B")


def _direction(params: Mapping[str, Any]) -> str | None:
    if "KeyConditionExpression" not in params:
        return None  # a scan has no direction
    return "ASC" if params.get("ScanIndexForward", True) else "DESC"


def _key_attributes(params: Mapping[str, Any], spec: TableSpec) -> frozenset[str]:
    names = {f.attribute for f in spec.key_fields}
    index_name = params.get("IndexName")
    if index_name is not None:
        index = spec.index(index_name)
        names.add(index.partition.attribute)
        if index.sort is not None:
            names.add(index.sort.attribute)
    return frozenset(names)


def _typed(value: AttributeValue, name: str) -> dict[str, str]:
    ((tag, raw),) = value.items()
    if tag not in _KEY_TAGS:
        raise CursorError(f"key attribute {name!r} has type {tag}; keys are S, N or B")
    if tag == "B":
        return {"B": base64.b64encode(bytes(raw)).decode("ascii")}
    return {tag: str(raw)}


class DynamormCursors:
    """Page cursors in DynamORM's format; pass :data:`DYNAMORM_CURSORS` to ``cursor_format``."""

    __slots__ = ()

    def encode(
        self, key: Mapping[str, AttributeValue], params: Mapping[str, Any], spec: TableSpec
    ) -> str:
        """The DynamORM cursor for resuming after ``key`` in the read ``params`` describe."""
        payload: dict[str, Any] = {
            "lastKey": {name: _typed(key[name], name) for name in sorted(key)}
        }
        if params.get("IndexName") is not None:
            payload["index"] = params["IndexName"]
        direction = _direction(params)
        if direction is not None:
            payload["sort"] = direction
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode("ascii")

    def decode(
        self, cursor: str, params: Mapping[str, Any], spec: TableSpec
    ) -> dict[str, AttributeValue]:
        """The ``ExclusiveStartKey`` in a DynamORM cursor, checked against this read.

        Raises:
            CursorError: not a DynamORM cursor, or one for another index, direction or key.
        """
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, UnicodeError, binascii.Error, AttributeError) as exc:
            raise CursorError("this is not a DynamORM cursor (base64url JSON)") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("lastKey"), dict):
            raise CursorError("a DynamORM cursor is a JSON object with a lastKey object")
        index = payload.get("index") or None
        if index != params.get("IndexName"):
            raise CursorError(
                f"the cursor is for index {index!r}, this read uses {params.get('IndexName')!r}"
            )
        sort = payload.get("sort") or None
        direction = _direction(params)
        if sort is not None and (not isinstance(sort, str) or sort.upper() != direction):
            raise CursorError(f"the cursor is for sort order {sort!r}, this read is {direction}")
        expected = _key_attributes(params, spec)
        last_key: dict[str, Any] = payload["lastKey"]
        if set(last_key) != expected:
            raise CursorError(
                f"the cursor's key has {sorted(last_key)}; this read's keys are {sorted(expected)}"
            )
        key: dict[str, AttributeValue] = {}
        for name, value in last_key.items():
            if not isinstance(value, dict) or len(value) != 1:
                raise CursorError(f"key attribute {name!r} is not a typed value")
            ((tag, raw),) = value.items()
            field = spec.by_attribute.get(name)
            wanted = field.key_type if field is not None else None
            if tag not in _KEY_TAGS or tag != wanted or not isinstance(raw, str):
                raise CursorError(f"key attribute {name!r} must be {wanted} text")
            if tag == "B":
                try:
                    key[name] = {"B": base64.b64decode(raw, validate=True)}
                except (ValueError, binascii.Error) as exc:
                    raise CursorError(f"key attribute {name!r} is not base64") from exc
            else:
                key[name] = {tag: raw}
        return key


DYNAMORM_CURSORS = DynamormCursors()
"""The DynamORM cursor format: ``query.cursor_format(DYNAMORM_CURSORS).page(cursor=...)``."""
