"""The I/O seam: everything above it is pure, everything below it is a thin adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["Transport", "repeatable"]


@runtime_checkable
class Transport(Protocol):
    """Sends one low-level DynamoDB API call and returns the parsed response.

    ``params`` and the response use the low-level API shapes (the ones botocore uses):
    AttributeValues such as ``{"S": "x"}``, ``{"N": "1"}``, ``{"B": b"raw bytes"}``. Binary values are
    ``bytes`` on both sides of the seam; a transport that speaks JSON does the base64 itself.

    A transport raises only asyncdynamo errors: service errors translated through
    :func:`asyncdynamo.error_from_service`, and :class:`TransportError` subclasses for
    connection failures and timeouts, whose ``request_sent`` is ``False`` only when no byte
    of the request can have reached the service. It never retries: the client's retry policy
    does.
    """

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Send ``operation`` (e.g. ``"GetItem"``) with ``params``; return the response."""
        ...

    async def aclose(self) -> None:
        """Release connections; the transport cannot be used afterwards."""
        ...


# Writes whose second application could differ from the first: a lost answer makes their outcome
# unknown. Other operations read, or are idempotent by construction (a transaction's
# ClientRequestToken; BatchWriteItem's puts and deletes replace or remove whole items).
_UNREPEATABLE = frozenset({"PutItem", "UpdateItem", "DeleteItem", "ExecuteStatement"})
_TOKEN_GUARDED = frozenset({"TransactWriteItems", "ExecuteTransaction"})


def repeatable(operation: str, params: Mapping[str, Any]) -> bool:
    """Whether sending ``operation`` again after a lost answer cannot apply it twice."""
    if operation in _UNREPEATABLE:
        return False
    if operation in _TOKEN_GUARDED:
        return bool(params.get("ClientRequestToken"))
    return operation != "BatchExecuteStatement"
