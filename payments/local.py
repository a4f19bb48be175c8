"""Run the payment handlers locally against the embedded moto server, with the example events.

```
python -m payments.local             # the whole flow, one line per invocation
python -m payments.local --json      # ... with every response in full
```
No AWS account is needed: moto serves DynamoDB and STS (each partner's assumed role gets its
own account, as in AWS), and a fake card processor stands in for the real one. The handlers
run as Lambda runs them: through their entry points on asyncdynamo's handler runner, one event
loop for all invocations, a fresh ``LambdaContext`` each time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from asyncdynamo import DB, LambdaConfig, LambdaEnvironment, Model, MultiAccountDB, PartnerConfig
from asyncdynamo.lambda_testing import LambdaContext
from asyncdynamo.local import Endpoint, MotoServer, config_for

from ._config import PaymentsLambdaConfig
from ._fake_gateway import FakeGateway
from ._gateway import AuthorizationRequest, GatewayResult
from ._models import Merchant
from ._money import Money
from ._reconcile import ReconciliationReport
from ._settlement import SettlementLine
from .events import load_event
from .handlers import HandlerSettings, configure, reset

__all__ = ["DemoGateway", "DemoSettlements", "main", "run_demo", "setup"]

PARTNERS = (
    PartnerConfig(
        partner_id="globex",
        role_arn="arn:aws:iam::222222222222:role/payments-partner",
        external_id="globex-local-demo",
    ),
)
MERCHANTS = (
    Merchant(merchant_id="m-acme", name="Acme", currencies=["USD"]),
    Merchant(merchant_id="m-own", name="Own shop", currencies=["JPY", "USD"]),
    Merchant(merchant_id="m-globex", name="Globex", partner_id="globex", currencies=["EUR"]),
)


@dataclass
class DemoGateway:
    """A fake card processor per account (``None``: the base account), routed by merchant.

    A partner's merchants have their own processor account, so each partner has its own
    settlement report.
    """

    partner_of: dict[str, str | None]
    accounts: dict[str | None, FakeGateway] = field(default_factory=dict)
    _owner: dict[str, str | None] = field(default_factory=dict)

    def account(self, partner_id: str | None) -> FakeGateway:
        return self.accounts.setdefault(partner_id, FakeGateway())

    @property
    def total_charges(self) -> int:
        return sum(g.total_charges for g in self.accounts.values())

    async def authorize(
        self, request: AuthorizationRequest, *, idempotency_key: str
    ) -> GatewayResult:
        partner = self.partner_of.get(request.merchant_id)
        result = await self.account(partner).authorize(request, idempotency_key=idempotency_key)
        self._owner[result.reference] = partner
        return result

    async def capture(
        self, reference: str, amount: Money, *, idempotency_key: str
    ) -> GatewayResult:
        gateway = self.account(self._owner.get(reference))
        return await gateway.capture(reference, amount, idempotency_key=idempotency_key)

    async def refund(self, reference: str, amount: Money, *, idempotency_key: str) -> GatewayResult:
        gateway = self.account(self._owner.get(reference))
        return await gateway.refund(reference, amount, idempotency_key=idempotency_key)

    async def void(self, reference: str, *, idempotency_key: str) -> GatewayResult:
        gateway = self.account(self._owner.get(reference))
        return await gateway.void(reference, idempotency_key=idempotency_key)

    async def settlement_report(self, day: date) -> Sequence[SettlementLine]:
        return await self.account(None).settlement_report(day)


@dataclass
class DemoSettlements:
    """Each partner's settlement report, from its processor account in a :class:`DemoGateway`."""

    gateway: DemoGateway

    async def settlement_report(self, partner_id: str, day: date) -> Sequence[SettlementLine]:
        return await self.gateway.account(partner_id).settlement_report(day)


def settings_for(endpoint: Endpoint, prefix: str) -> HandlerSettings:
    """Handler settings for the moto server at ``endpoint`` (tables named ``prefix...``)."""
    config = config_for(endpoint, table_prefix=prefix, cursor_secret=uuid.uuid4().bytes * 2)
    lambda_config = LambdaConfig(
        base_config=config, timeout_buffer=0.2, environment=LambdaEnvironment()
    )
    return HandlerSettings(payments=PaymentsLambdaConfig(lambda_=lambda_config), partners=PARTNERS)


async def setup(settings: HandlerSettings) -> DemoGateway:
    """Create the tables (base and partner accounts) and the demo merchants."""
    base_config = settings.payments.lambda_config().resolve()[0]
    models: tuple[type[Model], ...] = (*settings.models(), ReconciliationReport)
    async with DB(base_config) as db, MultiAccountDB(db, list(settings.partners)) as multi:
        await db.schema.create(*models)
        for partner_id in multi.list_partners():
            await (await multi.partner(partner_id)).schema.create(*models)
        for merchant in MERCHANTS:
            await db.put(merchant, overwrite=True)
    return DemoGateway({m.merchant_id: m.partner_id for m in MERCHANTS})


Invoke = Callable[[dict[str, Any]], Any]


def run_demo(settings: HandlerSettings, gateway: DemoGateway) -> list[tuple[str, Any]]:
    """Invoke every handler with the example events, in the order of a payment's life."""
    from .handlers import lookup, process, query, reconcile, settle

    def call(handler: Callable[[Any, Any], Any], event: dict[str, Any]) -> Any:
        return handler(event, LambdaContext(timeout=10, function_name="payments-local"))

    configure(settings, gateway=gateway, settlements=DemoSettlements(gateway))
    reset()
    results: list[tuple[str, Any]] = []
    try:
        created = call(process.handler, load_event("process_create"))
        results.append(("process_create", created))
        payment_id = json.loads(created["body"])["payment"]["payment_id"]
        results.append(
            ("process_create (replay)", call(process.handler, load_event("process_create")))
        )
        for name in ("process_capture", "process_refund_partial"):
            results.append((name, call(process.handler, load_event(name, payment_id=payment_id))))
        for name in ("query_payment", "query_audit"):
            results.append((name, call(query.handler, load_event(name, payment_id=payment_id))))
        now = datetime.now(UTC)
        window = {
            "from": (now - timedelta(hours=1)).isoformat(),
            "to": (now + timedelta(hours=1)).isoformat(),
        }
        results.append(("query_list", call(query.handler, load_event("query_list", **window))))
        results.append(("settle_batch", call(settle.handler, load_event("settle_batch"))))
        results.append(("settle_batch (re-run)", call(settle.handler, load_event("settle_batch"))))
        results.append(
            (
                "lookup_payment",
                call(lookup.handler, load_event("lookup_payment", payment_id=payment_id)),
            )
        )
        results.append(("lookup_customer", call(lookup.handler, load_event("lookup_customer"))))
        day = now.date().isoformat()
        results.append(
            (
                "reconcile_scheduled",
                call(reconcile.handler, load_event("reconcile_scheduled", day=day)),
            )
        )
    finally:
        reset()
        configure()
    return results


def _line(name: str, result: Any) -> str:
    if isinstance(result, dict) and "statusCode" in result:
        body = json.loads(result["body"])
        replayed = " (Idempotent-Replayed)" if "Idempotent-Replayed" in result["headers"] else ""
        what = body.get("payment", {}).get("status") or body.get("error") or ""
        if "payments" in body:
            what = f"{len(body['payments'])} payment(s)"
        if "history" in body:
            what = " → ".join(r["event"] for r in body["history"])
        return f"{name:<26} {result['statusCode']}{replayed} {what}"
    if isinstance(result, dict) and "summary" in result:
        return f"{name:<26} {result['summary']}"
    if isinstance(result, dict) and "partners" in result and "day" in result:
        statuses = {p: r["status"] for p, r in result["partners"].items()}
        return f"{name:<26} {result['day']} {statuses}"
    return f"{name:<26} {json.dumps(result, default=str)[:120]}"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m payments.local``: start moto, create tables, run the example events."""
    parser = argparse.ArgumentParser(prog="python -m payments.local", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print every response in full")
    options = parser.parse_args(argv)
    with MotoServer() as server:
        settings = settings_for(server.endpoint, f"local-{uuid.uuid4().hex[:6]}-")
        gateway = asyncio.run(setup(settings))
        for name, result in run_demo(settings, gateway):
            print(json.dumps({name: result}, default=str) if options.json else _line(name, result))
        print(f"card processor charges: {gateway.total_charges}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
