"""``python -m payments.local``: every example event through the handlers, without AWS."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from asyncdynamo.testing import Endpoint
from payments.local import run_demo, settings_for, setup

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lean_only")]


def test_the_local_run_invokes_every_handler_with_the_example_events(
    dynamo_endpoint: Endpoint,
) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("assumes a partner role: moto's server only")
    settings = settings_for(dynamo_endpoint, f"l{uuid.uuid4().hex[:8]}-")
    gateway = asyncio.run(setup(settings))

    results = dict(run_demo(settings, gateway))

    codes = {name: r["statusCode"] for name, r in results.items() if "statusCode" in r}
    assert codes == {
        "process_create": 201,
        "process_create (replay)": 200,
        "process_capture": 200,
        "process_refund_partial": 200,
        "query_payment": 200,
        "query_audit": 200,
        "query_list": 200,
    }
    assert len(json.loads(results["query_list"]["body"])["payments"]) == 1
    assert results["settle_batch"]["summary"] == {"authorized": 3, "rejected": 1}
    assert results["settle_batch (re-run)"]["summary"] == {"rejected": 1, "replayed": 3}
    assert results["reconcile_scheduled"]["partners"]["globex"]["status"] == "done"
    assert results["reconcile_scheduled"]["partners"]["globex"]["discrepancies"] == []
    assert gateway.total_charges == 6  # authorize, capture, refund + three batch items
