"""Replies the fault proxy makes up, and the batch cutting behind ``Unprocessed``."""

from __future__ import annotations

import json
import math
import uuid
import zlib
from typing import Any

from ._faults import ErrorReply, TransactionConflict, Unprocessed
from ._wire import Message

__all__ = ["BatchCut", "cancellation_reply", "cut_batch", "error_reply", "json_reply"]

_REASONS = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}
_CANCELLED = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"


def json_reply(status: int, document: dict[str, Any], *, keep_alive: bool) -> Message:
    """A DynamoDB-style JSON 1.0 response, with the ``x-amz-crc32`` DynamoDB sends."""
    body = json.dumps(document, separators=(",", ":")).encode()
    return Message(
        f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}",
        [
            ("x-amzn-RequestId", uuid.uuid4().hex.upper()),
            ("x-amz-crc32", str(zlib.crc32(body))),
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Connection", "keep-alive" if keep_alive else "close"),
        ],
        body,
    )


def error_reply(fault: ErrorReply, *, keep_alive: bool) -> Message:
    """The JSON 1.0 error document for ``fault``."""
    return json_reply(
        fault.status, {"__type": fault.error_type, "message": fault.message}, keep_alive=keep_alive
    )


def cancellation_reply(
    fault: TransactionConflict, request: Message, *, keep_alive: bool
) -> Message:
    """A ``TransactionCanceledException`` naming one conflicting action of ``request``."""
    actions = _document(request.body).get("TransactItems")
    count = max(1, len(actions) if isinstance(actions, list) else 1)
    conflicting = min(max(fault.index, 0), count - 1)
    reasons: list[dict[str, str]] = [{"Code": "None"} for _ in range(count)]
    reasons[conflicting] = {
        "Code": "TransactionConflict",
        "Message": "Transaction is ongoing for the item",
    }
    codes = ", ".join(reason["Code"] for reason in reasons)
    document = {
        "__type": _CANCELLED,
        "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
        "CancellationReasons": reasons,
    }
    return json_reply(400, document, keep_alive=keep_alive)


class BatchCut:
    """A batch split into the part to forward and the part reported unprocessed.

    Attributes:
        forward: the request body to send, or ``None`` when nothing is forwarded.
        unprocessed: ``UnprocessedItems``/``UnprocessedKeys`` to report, by table.
    """

    def __init__(
        self, operation: str, forward: dict[str, Any] | None, unprocessed: dict[str, Any]
    ) -> None:
        self.operation = operation
        self.forward = forward
        self.unprocessed = unprocessed

    @property
    def _field(self) -> str:
        return "UnprocessedKeys" if self.operation == "BatchGetItem" else "UnprocessedItems"

    def reply_without_forwarding(self, *, keep_alive: bool) -> Message:
        """The whole batch unprocessed."""
        document: dict[str, Any] = {self._field: self.unprocessed}
        if self.operation == "BatchGetItem":
            document["Responses"] = {table: [] for table in self.unprocessed}
        return json_reply(200, document, keep_alive=keep_alive)

    def merge_into(self, reply: Message) -> None:
        """Add the unprocessed part to the server's successful reply (in place)."""
        if reply.status != 200:
            return  # the forwarded part failed as a whole: pass the error on unchanged
        document = _document(reply.plain_body())
        merged: dict[str, Any] = dict(document.get(self._field) or {})
        for table, part in self.unprocessed.items():
            if self.operation == "BatchGetItem":
                entry = dict(
                    merged.get(table)
                    or {key: value for key, value in part.items() if key != "Keys"}
                )
                entry["Keys"] = list(entry.get("Keys", [])) + part["Keys"]
                merged[table] = entry
            else:
                merged[table] = list(merged.get(table, [])) + part
        document[self._field] = merged
        reply.replace_body(json.dumps(document, separators=(",", ":")).encode())


def cut_batch(fault: Unprocessed, operation: str, request: Message) -> BatchCut | None:
    """Split a batch request per ``fault``; ``None`` when the body is not a batch."""
    document = _document(request.body)
    tables = document.get("RequestItems")
    if not isinstance(tables, dict):
        return None
    entries: list[tuple[str, Any]] = []
    for table, part in tables.items():
        items = part.get("Keys", []) if operation == "BatchGetItem" else part
        entries.extend((table, item) for item in items)
    held = min(len(entries), math.ceil(fault.fraction * len(entries)))
    kept, dropped = entries[: len(entries) - held], entries[len(entries) - held :]
    forward = {**document, "RequestItems": _regroup(operation, tables, kept)} if kept else None
    return BatchCut(operation, forward, _regroup(operation, tables, dropped))


def _regroup(
    operation: str, tables: dict[str, Any], entries: list[tuple[str, Any]]
) -> dict[str, Any]:
    grouped: dict[str, Any] = {}
    for table, item in entries:
        if operation == "BatchGetItem":
            options = {key: value for key, value in tables[table].items() if key != "Keys"}
            grouped.setdefault(table, {**options, "Keys": []})["Keys"].append(item)
        else:
            grouped.setdefault(table, []).append(item)
    return grouped


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
