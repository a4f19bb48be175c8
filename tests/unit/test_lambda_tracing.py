"""Tracing: one span per call when enabled, and no import cost when not."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from asyncdynamo import Config, LambdaTimeoutError, RetryPolicy, ThrottlingError
from asyncdynamo.lambda_testing import LambdaContext
from tests.models import Note
from tests.unit.test_lambda_fakes import FakeTransport, lambda_db, never_answers

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace")
in_memory = pytest.importorskip("opentelemetry.sdk.trace.export.in_memory_span_exporter")
export = pytest.importorskip("opentelemetry.sdk.trace.export")


@pytest.fixture
def exporter() -> Any:
    return in_memory.InMemorySpanExporter()


@pytest.fixture
def provider(exporter: Any) -> Any:
    provider = otel_sdk.TracerProvider()
    provider.add_span_processor(export.SimpleSpanProcessor(exporter))
    return provider


async def test_each_call_is_one_span_with_table_and_capacity(exporter: Any, provider: Any) -> None:
    async def answer(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"ConsumedCapacity": {"TableName": params["TableName"], "CapacityUnits": 0.5}}

    db = lambda_db(FakeTransport(answer), enable_xray=True, tracer_provider=provider)
    await db.with_lambda_timeout(LambdaContext()).get(Note, "n1")
    (span,) = exporter.get_finished_spans()
    assert span.name == "DynamoDB.GetItem"
    assert span.attributes["aws.dynamodb.table_names"] == ("unit-notes",)
    assert span.attributes["asyncdynamo.capacity_units"] == 0.5
    assert span.attributes["asyncdynamo.retries"] == 0
    assert span.attributes["asyncdynamo.outcome"] == "ok"


async def test_retries_and_errors_are_recorded(exporter: Any, provider: Any) -> None:
    async def throttle(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ThrottlingError("slow down", code="ThrottlingException", operation=operation)

    config = Config(retry=RetryPolicy(max_attempts=3, base=0.001, cap=0.001))
    db = lambda_db(
        FakeTransport(throttle), enable_xray=True, tracer_provider=provider, config=config
    )
    with pytest.raises(ThrottlingError):
        await db.get(Note, "n1")
    (span,) = exporter.get_finished_spans()
    assert span.attributes["asyncdynamo.retries"] == 2
    assert span.attributes["asyncdynamo.outcome"] == "error"
    assert not span.status.is_ok


async def test_a_deadline_is_recorded_as_a_timeout(exporter: Any, provider: Any) -> None:
    db = lambda_db(FakeTransport(never_answers()), enable_xray=True, tracer_provider=provider)
    with pytest.raises(LambdaTimeoutError):
        await db.with_lambda_timeout(LambdaContext(timeout=0.1)).get(Note, "n1")
    (span,) = exporter.get_finished_spans()
    assert span.attributes["asyncdynamo.outcome"] == "timeout"


def test_without_tracing_nothing_is_imported() -> None:
    script = (
        "import asyncio, sys\n"
        "from asyncdynamo import LambdaConfig, LambdaDB, LambdaEnvironment\n"
        "db = LambdaDB(LambdaConfig(environment=LambdaEnvironment()))\n"
        "db.client\n"
        "heavy = [m for m in ('opentelemetry', 'asyncdynamo._tracing', 'aiobotocore', "
        "'botocore') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == ""
