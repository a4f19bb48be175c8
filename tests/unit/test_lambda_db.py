"""LambdaDB without a server: config defaults, process instance, warm starts, deadlines."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

import pytest

from asyncdynamo import (
    DB,
    Config,
    ConfigurationError,
    DeadlineExceededError,
    LambdaConfig,
    LambdaDB,
    LambdaEnvironment,
    LambdaTimeoutError,
    Model,
    ModelDeclarationError,
    PartitionKey,
    RetryPolicy,
    ThrottlingError,
    TransportKind,
    deadline_scope,
    env_table_name,
    new_lambda_optimized,
)
from asyncdynamo._lambda_env import default_pool_size, default_timeout_buffer
from asyncdynamo.lambda_testing import LambdaContext
from tests.models import Note
from tests.unit.test_lambda_fakes import FakeTransport, lambda_db, never_answers

IN_LAMBDA = LambdaEnvironment.from_environ(
    {
        "AWS_LAMBDA_FUNCTION_NAME": "payments",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_REGION": "eu-west-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    }
)


@pytest.fixture(autouse=True)
async def _fresh_process_state() -> AsyncIterator[None]:
    await LambdaDB.reset_process_instance()
    yield
    await LambdaDB.reset_process_instance()


def note_item(note_id: str) -> dict[str, Any]:
    return {"note_id": {"S": note_id}, "text": {"S": "hi"}, "count": {"N": "1"}}


# --- environment and defaults --------------------------------------------------------------------


def test_environment_is_parsed_from_the_runtime_variables() -> None:
    assert IN_LAMBDA.in_lambda
    assert IN_LAMBDA.function_name == "payments"
    assert IN_LAMBDA.memory_size_mb == 1024
    assert IN_LAMBDA.region == "eu-west-1"


def test_outside_lambda_nothing_is_detected() -> None:
    env = LambdaEnvironment.from_environ({"AWS_REGION": "eu-west-1"})
    assert not env.in_lambda
    assert env.memory_size_mb is None


def test_smaller_functions_keep_a_larger_buffer_and_fewer_connections() -> None:
    small = LambdaEnvironment(function_name="f", memory_size_mb=128)
    large = LambdaEnvironment(function_name="f", memory_size_mb=3008)
    assert default_timeout_buffer(small) > default_timeout_buffer(large) > 0
    assert default_pool_size(small) < default_pool_size(large)


def test_default_config_uses_the_lean_transport_in_the_function_region() -> None:
    config, buffer, _ = LambdaConfig(environment=IN_LAMBDA).resolve()
    assert config.transport is TransportKind.LEAN
    assert config.region == "eu-west-1"
    assert config.max_pool_connections == default_pool_size(IN_LAMBDA)
    assert buffer == default_timeout_buffer(IN_LAMBDA)


def test_explicit_settings_win_over_derived_defaults() -> None:
    base = Config(region="us-west-2", table_prefix="prod-")
    config, buffer, _ = LambdaConfig(
        base_config=base, warm_pool_size=3, timeout_buffer=0.5, environment=IN_LAMBDA
    ).resolve()
    assert (config.region, config.table_prefix, config.max_pool_connections) == (
        "us-west-2",
        "prod-",
        3,
    )
    assert buffer == 0.5


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        LambdaConfig(warm_pool_size=0)
    with pytest.raises(ConfigurationError):
        LambdaConfig(timeout_buffer=-1)


# --- the process-wide instance -------------------------------------------------------------------


async def test_later_calls_return_the_same_instance() -> None:
    config = LambdaConfig(base_config=Config(), environment=LambdaEnvironment())
    first = await new_lambda_optimized(config)
    assert await new_lambda_optimized(config) is first
    assert await new_lambda_optimized() is first


async def test_a_different_config_later_is_refused() -> None:
    await new_lambda_optimized(LambdaConfig(base_config=Config(), environment=LambdaEnvironment()))
    with pytest.raises(ConfigurationError, match="different settings"):
        await new_lambda_optimized(
            LambdaConfig(base_config=Config(table_prefix="x-"), environment=LambdaEnvironment())
        )


def test_an_instance_from_a_closed_loop_is_refused() -> None:
    config = LambdaConfig(base_config=Config(), environment=LambdaEnvironment())
    first_loop = asyncio.new_event_loop()
    try:
        first_loop.run_until_complete(new_lambda_optimized(config))
    finally:
        first_loop.close()
    second_loop = asyncio.new_event_loop()
    try:
        with pytest.raises(ConfigurationError, match="lambda_handler"):
            second_loop.run_until_complete(new_lambda_optimized(config))
    finally:
        second_loop.run_until_complete(LambdaDB.reset_process_instance())
        second_loop.close()


async def test_a_closed_process_instance_is_replaced() -> None:
    config = LambdaConfig(base_config=Config(), environment=LambdaEnvironment())
    first = await new_lambda_optimized(config)
    await first.aclose()
    assert await new_lambda_optimized(config) is not first


# --- warm starts and pre-registration ------------------------------------------------------------


async def test_first_invocation_is_cold_and_later_ones_warm() -> None:
    db = lambda_db(FakeTransport())
    assert not db.is_warm_start()  # init phase
    first = LambdaContext()
    db.with_lambda_timeout(first)
    assert not db.is_warm_start()
    db.with_lambda_timeout(first)  # the same invocation again
    assert not db.is_warm_start()
    db.with_lambda_timeout(LambdaContext())
    assert db.is_warm_start()


async def test_pre_registration_resolves_table_names_once() -> None:
    resolved: list[str] = []

    def resolve(config: Any) -> str:
        resolved.append("x")
        return "counted"

    class Counted(Model):
        __table__ = resolve

        key: Annotated[str, PartitionKey]

    async def answer(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"Item": {"key": {"S": "k"}}}

    transport = FakeTransport(answer)
    db = lambda_db(transport)
    db.pre_register_models(Counted, Note, Counted)
    assert resolved == ["x"]
    assert db.registered_models == (Counted, Note)
    ldb = db.with_lambda_timeout(LambdaContext())
    for _ in range(3):
        await ldb.get(Counted, "k")
    assert resolved == ["x"]
    assert transport.calls[0][1]["TableName"] == "counted"


async def test_pre_registration_fails_at_init_for_an_unresolvable_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ASYNCDYNAMO_TEST_UNSET_TABLE", raising=False)

    class Unresolved(Model):
        __table__ = env_table_name("ASYNCDYNAMO_TEST_UNSET_TABLE")

        key: Annotated[str, PartitionKey]

    with pytest.raises(ModelDeclarationError):
        lambda_db(FakeTransport()).pre_register_models(Unresolved)


# --- deadlines -----------------------------------------------------------------------------------


def test_the_view_is_a_db_and_bounds_every_public_coroutine_method() -> None:
    view = lambda_db(FakeTransport()).with_lambda_timeout(LambdaContext())
    assert isinstance(view, DB)
    assert isinstance(view, LambdaDB)
    for name, member in inspect.getmembers(DB, inspect.iscoroutinefunction):
        if name.startswith("_") or name == "aclose":
            continue
        assert getattr(type(view), name) is not member, f"{name} is not bounded"


async def test_a_request_in_flight_at_the_deadline_is_cancelled() -> None:
    transport = FakeTransport(never_answers())
    ldb = lambda_db(transport, buffer=0.05).with_lambda_timeout(LambdaContext(timeout=0.1))
    before = asyncio.all_tasks()
    with pytest.raises(LambdaTimeoutError) as raised:
        await ldb.get(Note, "n1")
    assert raised.value.operation == "GetItem"
    assert transport.cancelled == ["GetItem"]
    assert asyncio.all_tasks() == before


async def test_no_time_left_fails_fast_without_sending() -> None:
    transport = FakeTransport()
    ldb = lambda_db(transport).with_lambda_timeout(LambdaContext(timeout=0))
    with pytest.raises(LambdaTimeoutError) as raised:
        await ldb.get(Note, "n1")
    assert raised.value.remaining <= 0
    assert transport.calls == []


async def test_remaining_time_within_the_buffer_fails_fast() -> None:
    transport = FakeTransport()
    ldb = lambda_db(transport, buffer=5.0).with_lambda_timeout(LambdaContext(timeout=1.0))
    with pytest.raises(LambdaTimeoutError):
        await ldb.put(Note(note_id="n1"))
    assert transport.calls == []


async def test_without_a_context_no_deadline_applies() -> None:
    db = lambda_db(FakeTransport())
    assert db.with_lambda_timeout(None) is db
    assert db.deadline is None


async def test_retries_never_sleep_past_the_deadline() -> None:
    async def throttle(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise ThrottlingError("slow down", code="ThrottlingException", operation=operation)

    transport = FakeTransport(throttle)
    db = lambda_db(transport, config=Config(retry=RetryPolicy(base=60.0, cap=60.0)))
    db.client._rng = lambda: 1.0  # every backoff is 60 s: longer than the time left
    ldb = db.with_lambda_timeout(LambdaContext(timeout=2.0))
    with pytest.raises(ThrottlingError):
        await ldb.get(Note, "n1")
    assert transport.operations == ["GetItem"]


async def test_a_builder_returned_earlier_still_honours_the_deadline() -> None:
    """Builders, iterators and context managers hold the view and send through its client."""

    class Pages:
        def __init__(self, db: DB) -> None:
            self._db = db

        async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
            start: dict[str, Any] | None = None
            while True:
                params: dict[str, Any] = {"TableName": "unit-notes"}
                if start:
                    params["ExclusiveStartKey"] = start
                page = await self._db.client.call("Scan", params)
                yield page
                start = page.get("LastEvaluatedKey")
                if not start:
                    return

    silence = asyncio.Event()

    async def first_page_then_silence(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if "ExclusiveStartKey" in params:
            await silence.wait()
        return {"Items": [note_item("n1")], "LastEvaluatedKey": {"note_id": {"S": "n1"}}}

    transport = FakeTransport(first_page_then_silence)
    pages = Pages(lambda_db(transport).with_lambda_timeout(LambdaContext(timeout=0.15)))
    seen: list[dict[str, Any]] = []

    async def read_all() -> None:
        async for page in pages:
            seen.append(page)

    with pytest.raises(LambdaTimeoutError) as raised:
        await read_all()
    assert len(seen) == 1
    assert raised.value.operation == "Scan"
    assert transport.cancelled == ["Scan"]


async def test_an_earlier_caller_deadline_is_not_reported_as_a_lambda_timeout() -> None:
    transport = FakeTransport(never_answers())
    ldb = lambda_db(transport).with_lambda_timeout(LambdaContext(timeout=60))
    caller_deadline = asyncio.get_running_loop().time() + 0.05
    with deadline_scope(caller_deadline), pytest.raises(DeadlineExceededError) as raised:
        await ldb.get(Note, "n1")
    assert not isinstance(raised.value, LambdaTimeoutError)


async def test_nested_views_keep_the_earlier_deadline() -> None:
    transport = FakeTransport(never_answers())
    db = lambda_db(transport)
    inner = db.with_lambda_timeout(LambdaContext(timeout=60)).with_lambda_timeout(
        LambdaContext(timeout=0.1)
    )
    outer_first = db.with_lambda_timeout(LambdaContext(timeout=0.1)).with_lambda_timeout(
        LambdaContext(timeout=60)
    )
    for view in (inner, outer_first):
        with pytest.raises(LambdaTimeoutError):
            await view.get(Note, "n1")


async def test_a_nested_view_reports_and_applies_the_earlier_deadline() -> None:
    db = lambda_db(FakeTransport())
    first = db.with_lambda_timeout(LambdaContext(timeout=1))
    nested = first.with_lambda_timeout(LambdaContext(timeout=60))
    assert nested.deadline == first.deadline


async def test_closing_a_view_leaves_the_shared_client_open() -> None:
    transport = FakeTransport()
    db = lambda_db(transport)
    async with db.with_lambda_timeout(LambdaContext()) as ldb:
        await ldb.get(Note, "n1")
    assert not transport.closed
    await db.get(Note, "n1")
    await db.aclose()
    assert transport.closed


async def test_views_share_the_client_and_its_observers() -> None:
    db = lambda_db(FakeTransport())
    seen: list[str] = []
    db.client.observers.append(lambda operation, *_: seen.append(operation))
    ldb = db.with_lambda_timeout(LambdaContext())
    await ldb.get(Note, "n1")
    assert seen == ["GetItem"]
    assert ldb.table_name(Note) == db.table_name(Note) == "unit-notes"
