"""``process``: create, capture, refund and void payments over API Gateway's HTTP API.

Routes (payload format 2.0; the merchant is the JWT claim ``merchant_id``; every route needs
an ``Idempotency-Key`` header):

| route                                   | body                                   | success |
|-----------------------------------------|----------------------------------------|---------|
| ``POST /payments``                      | amount, currency, card, customer_id... | 201     |
| ``POST /payments/{payment_id}/capture`` | optional amount, currency              | 200     |
| ``POST /payments/{payment_id}/refund``  | optional amount, currency              | 200     |
| ``POST /payments/{payment_id}/void``    | (none)                                 | 200     |

A replay answers 200 with ``Idempotent-Replayed: true``. Errors: 400 bad input (``field``,
``reason``), 402 declined, 403 merchant, 404 payment, 409 in progress (``Retry-After``) or wrong
status, 422 key reused with another request, 503 card processor unavailable, 504 out of time.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from asyncdynamo import lambda_handler

from .._errors import PaymentRequestError
from .._requests import PaymentRequest, PaymentResult
from . import _runtime
from ._common import merchant_request, run_http
from ._http import json_response, parse_card, parse_money, payment_json
from ._log import InvocationLog

__all__ = ["handler"]

_runtime.init_at_import()


def _metadata(body: dict[str, Any]) -> dict[str, str]:
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise PaymentRequestError("metadata must map strings to strings", field="metadata")
    return metadata


def _payment_request(merchant_id: str, body: dict[str, Any]) -> PaymentRequest:
    if "merchant_id" in body:
        raise PaymentRequestError(
            "the merchant comes from the access token, not the body", field="merchant_id"
        )
    money = parse_money(body)
    assert money is not None
    customer_id = body.get("customer_id")
    description = body.get("description", "")
    if not isinstance(description, str):
        raise PaymentRequestError("description must be a string", field="description")
    return PaymentRequest(
        merchant_id=merchant_id,
        amount=money,
        card=parse_card(body),
        customer_id=customer_id,
        description=description,
        metadata=_metadata(body),
    )


def _shape(result: PaymentResult, created: int) -> dict[str, Any]:
    headers = {"Idempotent-Replayed": "true"} if result.replay else {}
    status = 200 if result.replay else created
    return json_response(status, {"payment": payment_json(result.payment)}, headers)


async def _respond(
    event: dict[str, Any],
    runtime: _runtime.Runtime,
    call: _runtime.Invocation,
    entry: InvocationLog,
) -> dict[str, Any]:
    request, merchant_id = merchant_request(event, runtime, entry)
    key = request.idempotency_key()
    entry.set(idempotency_key=key)
    processor = call.processor
    who: dict[str, Any] = {"actor": f"merchant:{merchant_id}", "request_id": request.request_id}
    # The whole call ends at the invocation's deadline (the DB views' own bound): a slow card
    # processor gets a 504, with the key released or its lease ending at the deadline.
    async with asyncio.timeout_at(call.deadline):
        if request.route == "POST /payments":
            result = await processor.process_payment(
                _payment_request(merchant_id, request.body), idempotency_key=key, **who
            )
            created = 201
        else:
            payment_id = request.path.get("payment_id", "")
            entry.set(payment_id=payment_id)
            body = request.body
            common: dict[str, Any] = {"idempotency_key": key, "merchant_id": merchant_id, **who}
            if request.route == "POST /payments/{payment_id}/capture":
                result = await processor.capture(
                    payment_id, amount=parse_money(body, required=False), **common
                )
            elif request.route == "POST /payments/{payment_id}/refund":
                result = await processor.refund(
                    payment_id, amount=parse_money(body, required=False), **common
                )
            elif request.route == "POST /payments/{payment_id}/void":
                result = await processor.void(payment_id, **common)
            else:
                return json_response(404, {"error": "RouteNotFound", "route": request.route})
            created = 200
    entry.set(
        payment_id=result.payment.payment_id,
        outcome="replayed" if result.replay else result.payment.status.value,
    )
    return _shape(result, created)


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``payments.handlers.process.handler``)."""
    return dict(await run_http("process", context, functools.partial(_respond, event)))
