"""``settle``: a batch of payment requests across merchants and partner accounts.

Event (direct invocation, a Step Functions task, a queue consumer...):

```json
{"batch_id": "b-2026-11-30",
 "items": [{"item_id": "1", "merchant_id": "m-acme", "idempotency_key": "b-2026-11-30-1",
            "amount": 1250, "currency": "USD",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030}}]}
```
Items are grouped by the account of their merchant and processed concurrently under the
invocation's deadline. Each item gets its own outcome (``authorized``, ``replayed``,
``declined``, ``rejected``, ``failed``, ``not_done``). Re-running the same batch charges nothing
twice: every item is processed under its own idempotency key.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from asyncdynamo import lambda_handler

from .._errors import PaymentRequestError, PaymentsError
from .._requests import PaymentRequest
from .._settle import BatchItem, settle_batch
from . import _runtime
from ._common import run_job
from ._http import parse_card, parse_money
from ._log import InvocationLog

__all__ = ["handler", "parse_items"]

_runtime.init_at_import()


def _item(index: int, raw: Any) -> BatchItem:
    if not isinstance(raw, dict):
        return BatchItem(str(index), "", invalid=PaymentRequestError("not an object", field="item"))
    item_id = str(raw.get("item_id") or index)
    key = raw.get("idempotency_key")
    if not isinstance(key, str) or not key:
        error = PaymentRequestError("idempotency_key is required", field="idempotency_key")
        return BatchItem(item_id, "", invalid=error)
    try:
        money = parse_money(raw)
        assert money is not None
        request = PaymentRequest(
            merchant_id=raw.get("merchant_id"),  # type: ignore[arg-type]  # checked inside
            amount=money,
            card=parse_card(raw),
            customer_id=raw.get("customer_id"),
            description=str(raw.get("description") or ""),
        )
    except PaymentsError as exc:
        return BatchItem(item_id, key, invalid=exc)
    return BatchItem(item_id, key, request)


def parse_items(event: dict[str, Any]) -> list[BatchItem]:
    """The batch's items; an item that cannot be read becomes a rejected item, not an error.

    Raises:
        PaymentRequestError: ``items`` is not a list, or two items share an ``item_id``.
    """
    raw = event.get("items")
    if not isinstance(raw, list):
        raise PaymentRequestError("items must be a list", field="items")
    items = [_item(index, value) for index, value in enumerate(raw)]
    ids = Counter(item.item_id for item in items)
    repeated = sorted(item_id for item_id, count in ids.items() if count > 1)
    if repeated:
        raise PaymentRequestError(f"item ids repeat: {', '.join(repeated)}", field="items")
    return items


async def _respond(
    event: dict[str, Any],
    runtime: _runtime.Runtime,
    call: _runtime.Invocation,
    entry: InvocationLog,
) -> dict[str, Any]:
    items = parse_items(event)
    batch_id = str(event.get("batch_id") or "")
    entry.set(batch_id=batch_id, items=len(items))
    outcomes = await settle_batch(
        call.processor,
        call.multi,
        items,
        concurrency=runtime.settings.concurrency,
        request_id=entry.fields.get("request_id"),
        deadline=call.deadline,
    )
    counts = Counter(o.status.value for o in outcomes)
    entry.set(outcome="settled", statuses=dict(counts))
    return {
        "batch_id": batch_id,
        "items": [o.to_json() for o in outcomes],
        "summary": dict(sorted(counts.items())),
        "cost": entry.summary(),
    }


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``payments.handlers.settle.handler``)."""
    result: dict[str, Any] = await run_job("settle", context, functools.partial(_respond, event))
    return result
