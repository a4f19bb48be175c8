"""The frame every handler shares: runtime, deadline views, the log line, error responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from asyncdynamo import deadline_scope

from . import _runtime
from ._http import HttpRequest, error_response
from ._log import InvocationLog, invocation_log

__all__ = ["merchant_request", "run_http", "run_job"]

Respond = Callable[[_runtime.Runtime, _runtime.Invocation, InvocationLog], Awaitable[Any]]


async def run_job(name: str, context: Any, respond: Respond) -> Any:
    """Run one invocation of a non-HTTP handler: exceptions propagate to Lambda (logged)."""
    runtime = await _runtime.current()
    call = runtime.invocation(context)
    prices = runtime.settings.payments.payments.prices
    cold = not runtime.db.is_warm_start()
    # deadline_scope: what reads the deadline itself (the idempotency lease, retry pauses)
    # sees the invocation's, not only the calls through the views
    with (
        deadline_scope(call.deadline),
        invocation_log(name, context, call.db, prices, cold_start=cold) as entry,
    ):
        return await respond(runtime, call, entry)


async def run_http(name: str, context: Any, respond: Respond) -> Mapping[str, Any]:
    """Run one invocation of an HTTP handler: expected errors become responses."""

    async def guarded(
        runtime: _runtime.Runtime, call: _runtime.Invocation, entry: InvocationLog
    ) -> Mapping[str, Any]:
        try:
            response: Mapping[str, Any] = await respond(runtime, call, entry)
        except Exception as exc:
            shaped = error_response(exc)
            if shaped is None:
                raise
            entry.set(outcome=type(exc).__name__)
            response = shaped
        else:
            entry.set(outcome=entry.fields.get("outcome", "ok"))
        entry.set(status_code=response["statusCode"])
        return response

    result: Mapping[str, Any] = await run_job(name, context, guarded)
    return result


def merchant_request(
    event: Mapping[str, Any], runtime: _runtime.Runtime, entry: InvocationLog
) -> tuple[HttpRequest, str]:
    """An HTTP API event and the merchant its token names, both noted on the log line.

    Raises:
        PaymentRequestError: the body is not a JSON object.
        InvalidMerchantError: the token names no merchant.
    """
    request = HttpRequest.parse(event)
    entry.set(route=request.route, api_request_id=request.request_id)
    merchant_id = request.merchant_id(runtime.settings.merchant_claim)
    entry.set(merchant_id=merchant_id)
    return request, merchant_id
