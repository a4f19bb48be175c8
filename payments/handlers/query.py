"""``query``: read payments over API Gateway's HTTP API (the merchant is the JWT claim).

| route                                | answer                                                    |
|--------------------------------------|-----------------------------------------------------------|
| ``GET /payments/{payment_id}``       | the payment and its ledger entries                        |
| ``GET /payments/{payment_id}/audit`` | the payment's audit history, oldest first                 |
| ``GET /payments``                    | the merchant's payments created between ``from`` and      |
|                                      | ``to`` (ISO 8601), newest first, optionally ``status``;   |
|                                      | ``limit`` (1-100) and a signed ``cursor`` for the next    |
|                                      | page (bound to the same merchant, range and status)       |

Another merchant's payment is 404. A cursor that was altered, or issued for another query, is
400 (``field: cursor``).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from asyncdynamo import ConfigurationError, attr, lambda_handler

from .._errors import PaymentRequestError
from .._models import Payment, PaymentStatus, Transaction
from . import _runtime
from ._common import merchant_request, run_http
from ._http import json_response, payment_json
from ._log import InvocationLog

__all__ = ["handler"]

_runtime.init_at_import()


def _time(query: dict[str, str], name: str) -> datetime:
    raw = query.get(name)
    if not raw:
        raise PaymentRequestError(f"the {name!r} query parameter is required", field=name)
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise PaymentRequestError(f"{name} must be an ISO 8601 time", field=name) from exc
    if moment.tzinfo is None:
        raise PaymentRequestError(f"{name} needs a UTC offset (e.g. 'Z')", field=name)
    return moment


def _limit(query: dict[str, str]) -> int:
    raw = query.get("limit") or "50"
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise PaymentRequestError("limit must be a whole number from 1 to 100", field="limit")
    return int(raw)


async def _list(call: _runtime.Invocation, merchant_id: str, query: dict[str, str]) -> Any:
    since, until = _time(query, "from"), _time(query, "to")
    if since > until:
        raise PaymentRequestError("'from' must not be after 'to'", field="from")
    processor = call.processor
    db = await processor.db_for(await processor.merchant(merchant_id))
    if db.config.cursor_secret is None:
        # a random per-container secret would make cursors fail on the next container
        raise ConfigurationError("set PAYMENTS_CURSOR_SECRET: query cursors must be signed")
    search = db.query(Payment).where(
        attr("merchant_id") == merchant_id, attr("created_at").between(since, until)
    )
    status = query.get("status")
    if status:
        try:
            search = search.filter(attr("status") == PaymentStatus(status))
        except ValueError as exc:
            raise PaymentRequestError(
                f"status must be one of {', '.join(s.value for s in PaymentStatus)}",
                field="status",
            ) from exc
    page = await search.descending().page(cursor=query.get("cursor") or None, size=_limit(query))
    return {"payments": [payment_json(p) for p in page.items], "cursor": page.cursor}


async def _respond(
    event: dict[str, Any],
    runtime: _runtime.Runtime,
    call: _runtime.Invocation,
    entry: InvocationLog,
) -> dict[str, Any]:
    request, merchant_id = merchant_request(event, runtime, entry)
    processor = call.processor
    if request.route == "GET /payments":
        return json_response(200, await _list(call, merchant_id, dict(request.query)))
    payment_id = request.path.get("payment_id", "")
    entry.set(payment_id=payment_id)
    # another merchant's payment is not found (PaymentNotFoundError: 404)
    payment = await processor.get_payment(payment_id, merchant_id=merchant_id)
    db = await processor.db_for(await processor.merchant(merchant_id))
    if request.route == "GET /payments/{payment_id}":
        ledger = (
            await db.query(Transaction).where(attr("payment_id") == payment_id).consistent().all()
        )
        body = {
            "payment": payment_json(payment),
            "ledger": [item.model_dump(mode="json") for item in ledger],
        }
        return json_response(200, body)
    if request.route == "GET /payments/{payment_id}/audit":
        history = await processor.audit(db).history(payment_id)
        return json_response(
            200,
            {"payment_id": payment_id, "history": [r.model_dump(mode="json") for r in history]},
        )
    return json_response(404, {"error": "RouteNotFound", "route": request.route})


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``payments.handlers.query.handler``)."""
    return dict(await run_http("query", context, functools.partial(_respond, event)))
