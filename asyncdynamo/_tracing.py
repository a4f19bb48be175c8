"""Optional OpenTelemetry spans for every DynamoDB call (X-Ray through the ADOT Lambda layer).

Imported only when tracing is turned on, and it imports ``opentelemetry`` only inside
:func:`instrument`, so a DB without tracing pays nothing for it at import time.

One span per API call (retries included), named ``DynamoDB.<Operation>``, kind CLIENT, with the
OpenTelemetry semantic-convention attributes for AWS SDK / DynamoDB calls plus asyncdynamo's
own: ``asyncdynamo.retries``, ``asyncdynamo.outcome`` and ``asyncdynamo.capacity_units``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

from ._client import Client, current_deadline
from ._errors import AsyncDynamoError, DeadlineExceededError
from ._lambda_client import ForwardingClient

__all__ = ["SpanOutcome", "TracingClient", "instrument", "request_attributes"]

# The span of the call in flight in this context, so the client's observer (told about retries
# when the call finishes) can annotate it.
_CURRENT_SPAN: ContextVar[Any] = ContextVar("asyncdynamo_span", default=None)


class SpanOutcome(StrEnum):
    """How a traced call ended."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


def request_attributes(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Span attributes describing one request (operation, tables, index)."""
    attributes: dict[str, Any] = {
        "rpc.system": "aws-api",
        "rpc.service": "DynamoDB",
        "rpc.method": operation,
        "db.system": "dynamodb",
        "db.operation": operation,
    }
    tables: list[str] = []
    if isinstance(params.get("TableName"), str):
        tables.append(params["TableName"])
    request_items = params.get("RequestItems")
    if isinstance(request_items, Mapping):
        tables.extend(str(name) for name in request_items)
    for action in params.get("TransactItems", ()) or ():
        for body in action.values() if isinstance(action, Mapping) else ():
            name = body.get("TableName") if isinstance(body, Mapping) else None
            if isinstance(name, str) and name not in tables:
                tables.append(name)
    if tables:
        attributes["aws.dynamodb.table_names"] = tables
    if isinstance(params.get("IndexName"), str):
        attributes["aws.dynamodb.index_name"] = params["IndexName"]
    return attributes


def _capacity_attributes(response: Mapping[str, Any]) -> dict[str, Any]:
    consumed = response.get("ConsumedCapacity")
    if not consumed:
        return {}
    entries = [consumed] if isinstance(consumed, Mapping) else list(consumed)
    total = sum(float(entry.get("CapacityUnits", 0.0) or 0.0) for entry in entries)
    return {
        "aws.dynamodb.consumed_capacity": [json.dumps(entry, default=str) for entry in entries],
        "asyncdynamo.capacity_units": total,
    }


def _outcome(error: BaseException) -> SpanOutcome:
    if isinstance(error, DeadlineExceededError):
        return SpanOutcome.TIMEOUT
    if isinstance(error, AsyncDynamoError):
        return SpanOutcome.ERROR
    if isinstance(error, Exception):
        return SpanOutcome.ERROR
    if isinstance(error, asyncio.CancelledError):
        # A deadline cancels the call from outside this wrapper: tell it from other cancellations.
        deadline = current_deadline()
        if deadline is not None and asyncio.get_running_loop().time() >= deadline:
            return SpanOutcome.TIMEOUT
    return SpanOutcome.CANCELLED


class TracingClient(ForwardingClient):
    """Wraps a client so each call is one span (see the module docstring)."""

    def __init__(self, inner: Client, tracer: Any) -> None:
        super().__init__(inner)
        from opentelemetry.trace import SpanKind, Status, StatusCode

        self._tracer = tracer
        self._client_kind = SpanKind.CLIENT
        self._status = Status
        self._error_code = StatusCode.ERROR
        if _annotate_retries not in inner.observers:
            inner.observers.append(_annotate_retries)

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        span = self._tracer.start_span(
            f"DynamoDB.{operation}",
            kind=self._client_kind,
            attributes=request_attributes(operation, params),
        )
        token = _CURRENT_SPAN.set(span)
        try:
            response = await self._inner.call(operation, params)
        except BaseException as exc:
            span.set_attribute("asyncdynamo.outcome", str(_outcome(exc)))
            if isinstance(exc, Exception):
                span.record_exception(exc)
            span.set_status(self._status(self._error_code, type(exc).__name__))
            raise
        else:
            span.set_attributes(_capacity_attributes(response))
            span.set_attribute("asyncdynamo.outcome", str(SpanOutcome.OK))
            return response
        finally:
            _CURRENT_SPAN.reset(token)
            span.end()


def _annotate_retries(
    operation: str,
    params: Mapping[str, Any],
    response: Mapping[str, Any] | None,
    retries: int,
    error: BaseException | None,
) -> None:
    span = _CURRENT_SPAN.get()
    if span is not None:
        span.set_attribute("asyncdynamo.retries", retries)


def instrument(client: Client, tracer_provider: Any = None) -> Client:
    """Return ``client`` wrapped so every call emits a span.

    Args:
        client: the client to trace.
        tracer_provider: an OpenTelemetry ``TracerProvider``; ``None`` uses the global one
            (which the ADOT Lambda layer configures to export to X-Ray).

    Raises:
        ConfigurationError: ``opentelemetry-api`` is not installed.
    """
    try:
        from opentelemetry import trace
    except ImportError as exc:
        from ._errors import ConfigurationError

        raise ConfigurationError(
            "tracing needs opentelemetry-api: pip install 'asyncdynamo-lambda[tracing]'"
        ) from exc
    tracer = trace.get_tracer("asyncdynamo", tracer_provider=tracer_provider)
    return TracingClient(client, tracer)
