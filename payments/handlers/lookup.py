"""``lookup``: find a payment, or a customer's payments, in whichever account holds them.

For support tools and internal callers that do not know the partner (direct invocation; not
exposed to merchants). Event: ``{"payment_id": "pay_..."}`` or ``{"customer_id": "c-1"}``.
Every account (``"base"`` and each partner) is searched at once; accounts that could not be
searched are listed under ``errors``.
"""

from __future__ import annotations

import functools
from typing import Any

from asyncdynamo import lambda_handler

from .._errors import PaymentRequestError
from .._lookup import find_customer_payments, find_payment
from .._requests import check_id
from . import _runtime
from ._common import run_job
from ._http import payment_json
from ._log import InvocationLog

__all__ = ["handler"]

_runtime.init_at_import()


async def _respond(
    event: dict[str, Any],
    runtime: _runtime.Runtime,
    call: _runtime.Invocation,
    entry: InvocationLog,
) -> dict[str, Any]:
    concurrency = runtime.settings.concurrency
    if event.get("payment_id"):
        payment_id = check_id(event["payment_id"], "payment_id")
        entry.set(payment_id=payment_id)
        search = await find_payment(call.db, call.multi, payment_id, concurrency=concurrency)
        found = {acct: payment_json(p) for acct, p in search.found.items() if p is not None}
        entry.set(outcome="found" if found else "not_found", accounts=list(found))
        return {"payments": found, "errors": search.errors, "cost": entry.summary()}
    if event.get("customer_id"):
        customer_id = check_id(event["customer_id"], "customer_id")
        many = await find_customer_payments(
            call.db, call.multi, customer_id, concurrency=concurrency
        )
        payments = {acct: [payment_json(p) for p in ps] for acct, ps in many.found.items() if ps}
        entry.set(outcome="found" if payments else "not_found", accounts=list(payments))
        return {"payments": payments, "errors": many.errors, "cost": entry.summary()}
    raise PaymentRequestError("give a payment_id or a customer_id", field="payment_id")


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``payments.handlers.lookup.handler``)."""
    result: dict[str, Any] = await run_job("lookup", context, functools.partial(_respond, event))
    return result
