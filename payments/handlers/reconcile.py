"""``reconcile``: a scheduled job reconciling one day across every partner account.

Event (an EventBridge schedule, or its constant input):

```json
{"source": "aws.events", "detail-type": "Scheduled Event", "time": "2026-11-30T02:00:00Z",
 "detail": {}}
```
The day is ``day`` (top level or in ``detail``), else the day before ``time``. ``partners``
(optional) limits the run to some partners.

Returns per partner its status (``done``, ``already_done``, ``failed``, ``not_done``) and
discrepancies (``missing``, ``extra``, ``amount_mismatch``), ``complete`` (every partner has a
report) and the invocation's cost. Run it again for the same day to finish what is not done:
partners with a stored report are not redone.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from asyncdynamo import ConfigurationError, lambda_handler

from .._errors import PaymentRequestError
from .._reconcile import Reconciler, ReconciliationReport, ReconciliationStatus
from . import _runtime
from ._common import run_job
from ._log import InvocationLog

__all__ = ["handler", "reconciliation_day"]

_runtime.init_at_import(ReconciliationReport)


def reconciliation_day(event: dict[str, Any]) -> date:
    """The day an event asks for.

    Raises:
        PaymentRequestError: ``day`` or ``time`` is not a date.
    """
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    raw = event.get("day") or (detail or {}).get("day")
    try:
        if raw:
            return date.fromisoformat(str(raw))
        if event.get("time"):
            when = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
            return (when.astimezone(UTC) - timedelta(days=1)).date()
    except ValueError as exc:
        raise PaymentRequestError("day must be YYYY-MM-DD", field="day") from exc
    return (datetime.now(UTC) - timedelta(days=1)).date()


async def _respond(
    event: dict[str, Any],
    runtime: _runtime.Runtime,
    call: _runtime.Invocation,
    entry: InvocationLog,
) -> dict[str, Any]:
    day = reconciliation_day(event)
    if call.multi is None or runtime.settlements is None:
        raise ConfigurationError(
            "reconcile needs partners (PAYMENTS_PARTNERS) and a settlement source "
            "(PAYMENTS_SETTLEMENTS)"
        )
    partners = event.get("partners")
    reconciler = Reconciler(
        call.multi,
        runtime.settlements,
        concurrency=runtime.settings.concurrency,
        request_id=entry.fields.get("request_id"),
    )
    outcomes = await reconciler.reconcile(
        day, [str(p) for p in partners] if isinstance(partners, list) else None
    )
    statuses = {pid: o.status.value for pid, o in outcomes.items()}
    complete = all(
        o.status in (ReconciliationStatus.DONE, ReconciliationStatus.ALREADY_DONE)
        for o in outcomes.values()
    )
    entry.set(day=day.isoformat(), partners=statuses, outcome="complete" if complete else "partial")
    return {
        "day": day.isoformat(),
        "complete": complete,
        "partners": {pid: o.to_json() for pid, o in outcomes.items()},
        "cost": entry.summary(),
    }


@lambda_handler
async def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``payments.handlers.reconcile.handler``)."""
    result: dict[str, Any] = await run_job("reconcile", context, functools.partial(_respond, event))
    return result
