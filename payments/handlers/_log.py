"""One structured JSON log line per invocation, with its consumed capacity and cost.

Fields: ``handler``, ``request_id`` (Lambda's), ``api_request_id``, ``route``, ``merchant_id``,
``idempotency_key``, ``payment_id``, ``outcome``, ``status_code``, ``cold_start``,
``duration_ms``, ``capacity`` (read/write units, calls), ``cost`` (amount, currency), plus what
a handler adds (per-partner outcomes...). Only fields set explicitly are logged: never a request
body, so never a card number.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from asyncdynamo import DB, ConsumedCapacity

from .._cost import Cost, Prices

__all__ = ["InvocationLog", "invocation_log"]

log = logging.getLogger("payments.handlers")


class InvocationLog:
    """The fields of one invocation's log line; :meth:`set` adds, the block's end writes."""

    def __init__(self, handler: str, context: Any, used: ConsumedCapacity, prices: Prices) -> None:
        self.fields: dict[str, Any] = {
            "handler": handler,
            "request_id": getattr(context, "aws_request_id", None),
        }
        self._used = used
        self._prices = prices

    @property
    def cost(self) -> Cost:
        """The invocation's cost so far."""
        return Cost.of(self._used, self._prices)

    def set(self, **fields: Any) -> None:
        self.fields.update({k: v for k, v in fields.items() if v is not None})

    def summary(self) -> dict[str, Any]:
        """The invocation's cost so far, as handlers return and log it."""
        cost = self.cost
        return {
            "read_units": float(cost.read_units),
            "write_units": float(cost.write_units),
            "calls": cost.calls,
            "amount": str(cost.amount),
            "currency": cost.currency,
        }


@contextmanager
def invocation_log(
    handler: str, context: Any, db: DB, prices: Prices, *, cold_start: bool
) -> Iterator[InvocationLog]:
    """Track the capacity of every call in the block (partners' too) and log one line at its
    end, also when it raises."""
    started = time.perf_counter()
    with db.track_capacity() as used:
        entry = InvocationLog(handler, context, used, prices)
        entry.set(cold_start=cold_start)
        try:
            yield entry
        except BaseException as exc:
            entry.set(outcome=entry.fields.get("outcome", "error"), error=type(exc).__name__)
            raise
        finally:
            entry.set(
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                cost=entry.summary(),
            )
            log.info(json.dumps(entry.fields, default=str, separators=(",", ":")))
