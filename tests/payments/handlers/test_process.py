"""The ``process`` and ``query`` handlers through their Lambda entry points, with the example events."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from asyncdynamo import DB, Config, run_in_lambda_loop
from asyncdynamo.lambda_testing import LambdaContext, run_cold
from payments import AuditRecord, FakeGateway, Merchant, Payment
from payments.events import load_event
from payments.handlers import HandlerSettings, current, process, query
from tests.payments.conftest import TEST_PAN
from tests.payments.handlers.conftest import body, install, invoke

REPO_ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("handlers")]


def create_event(key: str = "order-42", **changes: Any) -> dict[str, Any]:
    event = load_event("process_create")
    event["headers"]["idempotency-key"] = key
    if changes:
        payload = json.loads(event["body"])
        payload.update(changes)
        event["body"] = json.dumps(payload)
    return event


def create(**changes: Any) -> dict[str, Any]:
    response: dict[str, Any] = invoke(process.handler, create_event(**changes))
    return response


def test_the_full_flow_with_the_example_events(gateway: FakeGateway) -> None:
    created = invoke(process.handler, load_event("process_create"))
    assert created["statusCode"] == 201, created
    payment_id = body(created)["payment"]["payment_id"]

    captured = invoke(process.handler, load_event("process_capture", payment_id=payment_id))
    refunded = invoke(process.handler, load_event("process_refund_partial", payment_id=payment_id))
    found = invoke(query.handler, load_event("query_payment", payment_id=payment_id))
    audit = invoke(query.handler, load_event("query_audit", payment_id=payment_id))

    assert [r["statusCode"] for r in (captured, refunded, found, audit)] == [200] * 4
    payment = body(found)["payment"]
    assert (payment["status"], payment["captured_amount"], payment["refunded_amount"]) == (
        "partially_refunded",
        1250,
        500,
    )
    assert [e["kind"] for e in body(found)["ledger"]] == ["authorization", "capture", "refund"]
    history = body(audit)["history"]
    assert [(r["before_status"], r["after_status"]) for r in history] == [
        ("pending", "authorized"),
        ("authorized", "captured"),
        ("captured", "partially_refunded"),
    ]
    assert {r["request_id"] for r in history} == {
        "api-req-create-1",
        "api-req-capture-1",
        "api-req-refund-1",
    }
    assert gateway.total_charges == 3


def test_a_replay_answers_200_with_the_first_result_and_charges_once(
    gateway: FakeGateway,
) -> None:
    first = create()
    again = create()
    assert (first["statusCode"], again["statusCode"]) == (201, 200)
    assert again["headers"]["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first["headers"]
    assert body(again)["payment"] == body(first)["payment"]
    assert gateway.total_charges == 1


def test_a_key_reused_with_another_payload_is_422() -> None:
    assert create()["statusCode"] == 201
    reused = create(amount=999)
    assert reused["statusCode"] == 422
    assert body(reused)["error"] == "DuplicatePaymentError"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": -1}, "amount"),
        ({"amount": "12.50"}, "amount"),
        ({"currency": "XXX"}, "currency"),
        (
            {"card": {"number": "4242424242424241", "exp_month": 12, "exp_year": 2030}},
            "card.number",
        ),
        ({"card": {"number": TEST_PAN, "exp_month": 13, "exp_year": 2030}}, "card.expiry"),
        ({"merchant_id": "m-other"}, "merchant_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(change: dict[str, Any], field: str) -> None:
    response = create(**change)
    assert response["statusCode"] == 400
    assert body(response)["field"] == field
    assert body(response)["reason"]


def test_a_missing_key_or_a_broken_body_is_400() -> None:
    event = create_event()
    del event["headers"]["idempotency-key"]
    assert body(invoke(process.handler, event))["field"] == "idempotency_key"
    event = create_event()
    event["body"] = "{not json"
    assert body(invoke(process.handler, event))["field"] == "body"


def test_the_merchant_comes_from_the_token_only() -> None:
    event = create_event()
    event["requestContext"]["authorizer"]["jwt"]["claims"]["merchant_id"] = "m-unknown"
    assert invoke(process.handler, event)["statusCode"] == 403
    del event["requestContext"]["authorizer"]
    assert invoke(process.handler, event)["statusCode"] == 403


def test_a_decline_is_402_and_stays_declined(gateway: FakeGateway) -> None:
    gateway.decline = "insufficient_funds"
    declined = create()
    again = create()
    assert (declined["statusCode"], again["statusCode"]) == (402, 402)
    assert body(declined)["decline_code"] == "insufficient_funds"
    assert again["headers"]["Idempotent-Replayed"] == "true"


def test_a_key_in_flight_is_409_with_retry_after(gateway: FakeGateway) -> None:
    gateway.hold = asyncio.Event()

    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        entry = process.handler.__wrapped__  # type: ignore[attr-defined]
        first = asyncio.ensure_future(entry(create_event(), LambdaContext(timeout=10)))
        await gateway.entered.wait()
        second = await entry(create_event(), LambdaContext(timeout=10))
        assert gateway.hold is not None
        gateway.hold.set()
        return await first, second

    first, second = run_in_lambda_loop(both())
    assert (first["statusCode"], second["statusCode"]) == (201, 409)
    assert int(second["headers"]["Retry-After"]) >= 1


def test_wrong_status_is_409_and_refund_beyond_capture_is_400() -> None:
    payment_id = body(create())["payment"]["payment_id"]
    refund = invoke(process.handler, load_event("process_refund_partial", payment_id=payment_id))
    assert refund["statusCode"] == 409
    assert body(refund)["status"] == "authorized"
    invoke(process.handler, load_event("process_capture", payment_id=payment_id))
    event = load_event("process_refund_partial", payment_id=payment_id)
    event["body"] = json.dumps({"amount": 5000, "currency": "USD"})
    event["headers"]["idempotency-key"] = "too-much"
    too_much = invoke(process.handler, event)
    assert too_much["statusCode"] == 400
    assert body(too_much)["error"] == "RefundExceedsCaptureError"


@pytest.fixture
async def other_merchant(payment_tables: DB) -> str:
    await payment_tables.put(Merchant(merchant_id="m-other", name="Other", currencies=["USD"]))
    return "m-other"


def test_another_merchants_payment_is_404_and_an_unknown_merchant_403(other_merchant: str) -> None:
    payment_id = body(create())["payment"]["payment_id"]
    for name in ("query_payment", "query_audit", "process_capture"):
        event = load_event(name, payment_id=payment_id)
        event["requestContext"]["authorizer"]["jwt"]["claims"]["merchant_id"] = other_merchant
        handler = process.handler if name.startswith("process") else query.handler
        assert invoke(handler, event)["statusCode"] == 404, name
    event["requestContext"]["authorizer"]["jwt"]["claims"]["merchant_id"] = "m-nobody"
    assert invoke(process.handler, event)["statusCode"] == 403


async def _stored(model: type[Any]) -> int:
    db = (await current()).db
    return len(await db.scan(model).all())


def test_out_of_time_is_504_with_nothing_written_and_a_retry_charges_once(
    gateway: FakeGateway,
) -> None:
    gateway.delay = 30.0  # the card processor does not answer before the deadline
    late = invoke(process.handler, create_event(), timeout=2.5)  # room for a cold client under load
    assert late["statusCode"] == 504
    assert gateway.total_charges == 0
    assert run_in_lambda_loop(_stored(Payment)) == 0
    assert run_in_lambda_loop(_stored(AuditRecord)) == 0

    gateway.delay = 0.0
    retried = create()
    assert retried["statusCode"] == 201
    assert gateway.total_charges == 1


@pytest.mark.usefixtures("lean_only")
def test_fifty_concurrent_identical_requests_charge_once(
    gateway: FakeGateway, handlers: HandlerSettings
) -> None:
    gateway.delay = 0.05

    async def fifty() -> list[dict[str, Any]]:
        entry = process.handler.__wrapped__  # type: ignore[attr-defined]
        calls = [entry(create_event(), LambdaContext(timeout=20)) for _ in range(50)]
        return list(await asyncio.gather(*calls))

    responses = run_in_lambda_loop(fifty())
    codes = sorted(r["statusCode"] for r in responses)
    assert codes.count(201) == 1
    assert set(codes) <= {200, 201, 409}
    ids = {body(r)["payment"]["payment_id"] for r in responses if r["statusCode"] != 409}
    assert len(ids) == 1
    assert gateway.total_charges == 1


def test_the_merchants_payments_by_time_and_status_with_a_signed_cursor() -> None:
    ids = [body(create(key=f"k{i}"))["payment"]["payment_id"] for i in range(3)]
    now = datetime.now(UTC)
    window = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    event = load_event("query_list", **window)
    event["queryStringParameters"].update(status="authorized", limit="2")
    first = body(invoke(query.handler, event))
    assert len(first["payments"]) == 2 and first["cursor"]
    event["queryStringParameters"]["cursor"] = first["cursor"]
    second = body(invoke(query.handler, event))
    seen = [p["payment_id"] for p in first["payments"] + second["payments"]]
    assert sorted(seen) == sorted(ids)  # newest first, each once
    assert [p["created_at"] for p in first["payments"]] == sorted(
        (p["created_at"] for p in first["payments"]), reverse=True
    )

    event["queryStringParameters"]["status"] = "captured"  # the cursor is bound to its query
    rebound = invoke(query.handler, event)
    assert (rebound["statusCode"], body(rebound)["field"]) == (400, "cursor")
    event["queryStringParameters"].update(status="authorized", cursor=first["cursor"][:-4] + "AAAA")
    assert invoke(query.handler, event)["statusCode"] == 400


def test_logs_are_json_lines_with_cost_and_never_a_card_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="payments"):
        create()
        create()
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "payments.handlers"]
    assert [line["outcome"] for line in lines] == ["authorized", "replayed"]
    first = lines[0]
    assert first["merchant_id"] == "m-acme" and first["idempotency_key"] == "order-42"
    assert first["status_code"] == 201 and first["request_id"]
    assert first["cost"]["write_units"] > 0 and first["cost"]["calls"] >= 3
    assert TEST_PAN not in caplog.text


def test_with_tracing_on_every_dynamodb_call_of_an_invocation_is_a_span(
    handlers: HandlerSettings, gateway: FakeGateway
) -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    lambda_config = replace(handlers.payments.lambda_, enable_xray=True, tracer_provider=provider)
    traced = replace(handlers, payments=replace(handlers.payments, lambda_=lambda_config))
    install(traced, gateway)

    assert create()["statusCode"] == 201
    names = [span.name for span in exporter.get_finished_spans()]
    assert "DynamoDB.TransactWriteItems" in names and "DynamoDB.PutItem" in names


def test_a_fresh_process_builds_the_runtime_at_import_from_the_environment(
    dynamo_config: Config, handlers: HandlerSettings
) -> None:
    assert dynamo_config.endpoint_url is not None
    env = {
        "PAYMENTS_ENDPOINT_URL": dynamo_config.endpoint_url,
        "PAYMENTS_TABLE_PREFIX": dynamo_config.table_prefix,
        "PAYMENTS_TRANSPORT": str(dynamo_config.transport),
        "PAYMENTS_GATEWAY": "payments:FakeGateway",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    cold, replayed = run_cold(
        "payments.handlers.process:handler",
        [create_event(), create_event()],
        timeout=10,
        env=env,
        cwd=str(REPO_ROOT),
    )
    assert cold.ok and replayed.ok, (cold.traceback, replayed.traceback)
    assert (cold.value["statusCode"], replayed.value["statusCode"]) == (201, 200)
