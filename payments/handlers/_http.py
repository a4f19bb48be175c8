"""API Gateway HTTP API (payload format 2.0) events in, JSON responses out.

The merchant comes from the JWT authorizer's claims (``requestContext.authorizer.jwt.claims``),
never from the request body. Errors map to status codes in one table (:func:`error_response`).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from asyncdynamo import CursorError, DeadlineExceededError

from .._card import CardDetails
from .._errors import (
    DuplicatePaymentError,
    GatewayUnavailableError,
    InvalidMerchantError,
    InvalidTransitionError,
    PaymentDeclinedError,
    PaymentInProgressError,
    PaymentNotFoundError,
    PaymentRequestError,
)
from .._models import Payment
from .._money import Money

__all__ = [
    "HttpRequest",
    "error_response",
    "json_response",
    "parse_card",
    "parse_money",
    "payment_json",
]


class HttpRequest(NamedTuple):  # a NamedTuple is built ~10x faster than a frozen dataclass
    """What a handler needs from an HTTP API event."""

    route: str
    path: Mapping[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: dict[str, Any]
    request_id: str | None
    claims: Mapping[str, Any]

    @classmethod
    def parse(cls, event: Mapping[str, Any]) -> HttpRequest:
        """Read an HTTP API v2 event.

        Raises:
            PaymentRequestError: the body is not a JSON object (``field="body"``).
        """
        context = event.get("requestContext") or {}
        claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
        raw = event.get("body") or ""
        if event.get("isBase64Encoded") and raw:
            try:
                raw = base64.b64decode(raw).decode()
            except (ValueError, UnicodeDecodeError) as exc:
                raise PaymentRequestError("the body is not valid base64", field="body") from exc
        body: Any = {}
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise PaymentRequestError("the body is not valid JSON", field="body") from exc
        if not isinstance(body, dict):
            raise PaymentRequestError("the body must be a JSON object", field="body")
        return cls(
            route=str(event.get("routeKey") or ""),
            path=event.get("pathParameters") or {},
            query=event.get("queryStringParameters") or {},
            headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
            body=body,
            request_id=context.get("requestId"),
            claims=claims,
        )

    def merchant_id(self, claim: str) -> str:
        """The caller's merchant, from the authorizer's claims.

        Raises:
            InvalidMerchantError: no such claim (the request was not authorized for a merchant).
        """
        value = self.claims.get(claim)
        if not isinstance(value, str) or not value:
            raise InvalidMerchantError(
                f"the token has no {claim!r} claim naming a merchant", merchant_id=""
            )
        return value

    def idempotency_key(self) -> str:
        """The ``Idempotency-Key`` header.

        Raises:
            PaymentRequestError: the header is missing.
        """
        key = self.headers.get("idempotency-key")
        if not key:
            raise PaymentRequestError(
                "the Idempotency-Key header is required", field="idempotency_key"
            )
        return key


def _int(body: Mapping[str, Any], name: str, field_name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PaymentRequestError(f"{field_name} must be an integer", field=field_name)
    return value


def parse_money(body: Mapping[str, Any], *, required: bool = True) -> Money | None:
    """``{"amount": 1250, "currency": "USD"}`` (minor units) as :class:`Money`.

    Raises:
        PaymentRequestError: missing or invalid (``field`` is ``amount`` or ``currency``).
    """
    if "amount" not in body and not required:
        return None
    amount = _int(body, "amount", "amount")
    currency = body.get("currency")
    if not isinstance(currency, str):
        raise PaymentRequestError("currency must be an ISO 4217 code", field="currency")
    return Money(amount, currency)


def parse_card(body: Mapping[str, Any]) -> CardDetails:
    """``{"card": {"number", "exp_month", "exp_year", "cvc"}}`` as :class:`CardDetails`."""
    card = body.get("card")
    if not isinstance(card, dict):
        raise PaymentRequestError("card must be an object", field="card")
    number = card.get("number")
    if not isinstance(number, str):
        raise PaymentRequestError("card.number must be a string of digits", field="card.number")
    cvc = card.get("cvc")
    if cvc is not None and not isinstance(cvc, str):
        raise PaymentRequestError("card.cvc must be a string", field="card.cvc")
    return CardDetails(
        number,
        exp_month=_int(card, "exp_month", "card.exp_month"),
        exp_year=_int(card, "exp_year", "card.exp_year"),
        cvc=cvc,
    )


def payment_json(payment: Payment) -> dict[str, Any]:
    """A payment as the API shows it."""
    return payment.model_dump(mode="json", exclude={"version"})


def json_response(
    status: int, body: Any, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An HTTP API response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body, default=str, separators=(",", ":")),
    }


def _problem(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "message": message, **{k: v for k, v in extra.items() if v is not None}}


def error_response(exc: Exception) -> dict[str, Any] | None:
    """The response for an error a handler expects; ``None`` for anything else (a bug or an
    outage: re-raised so Lambda reports it)."""
    name = type(exc).__name__
    if isinstance(exc, PaymentRequestError):
        return json_response(400, _problem(name, str(exc), field=exc.field, reason=exc.reason))
    if isinstance(exc, CursorError):
        return json_response(400, _problem(name, str(exc), field="cursor"))
    if isinstance(exc, InvalidMerchantError):
        return json_response(403, _problem(name, str(exc)))
    if isinstance(exc, PaymentNotFoundError):
        return json_response(404, _problem(name, str(exc), payment_id=exc.payment_id))
    if isinstance(exc, PaymentDeclinedError):
        replay = getattr(exc.result, "replay", False)
        headers = {"Idempotent-Replayed": "true"} if replay else {}
        body = _problem(name, str(exc), payment_id=exc.payment_id)
        body["decline_code"] = exc.decline_code
        return json_response(402, body, headers)
    if isinstance(exc, PaymentInProgressError):
        retry = str(max(1, math.ceil(exc.retry_after)))
        return json_response(409, _problem(name, str(exc)), {"Retry-After": retry})
    if isinstance(exc, InvalidTransitionError):
        return json_response(
            409,
            _problem(name, str(exc), status=exc.current.value, target=exc.target.value),
        )
    if isinstance(exc, DuplicatePaymentError):
        return json_response(422, _problem(name, str(exc)))
    if isinstance(exc, GatewayUnavailableError):
        return json_response(503, _problem(name, str(exc)), {"Retry-After": "1"})
    if isinstance(exc, DeadlineExceededError | TimeoutError):
        message = (
            "the request ran out of time; retry with the same Idempotency-Key "
            "(a retry never charges twice)"
        )
        return json_response(504, _problem("DeadlineExceededError", message))
    return None
