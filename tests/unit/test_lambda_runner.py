"""The async handler runner: one loop for the container, clean invocations, errors unchanged."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from asyncdynamo import (
    LambdaDB,
    LambdaRunner,
    LambdaTimeoutError,
    UsageError,
    lambda_handler,
    run_in_lambda_loop,
)
from asyncdynamo._runner import invocation_count
from asyncdynamo.lambda_testing import LambdaContext, LocalLambda, reset_lambda_process
from tests.unit.test_lambda_fakes import FakeTransport, lambda_db, never_answers


@pytest.fixture
def runner() -> Iterator[LambdaRunner]:
    reset_lambda_process()  # invocations are counted per process
    runner = LambdaRunner(handler_buffer=0.05)
    yield runner
    runner.close()
    reset_lambda_process()


@pytest.fixture
def _process_state() -> Iterator[None]:
    reset_lambda_process()
    yield
    reset_lambda_process()


class PaymentDeclinedError(Exception):
    pass


def test_invocations_share_one_loop(runner: LambdaRunner) -> None:
    async def handler(event: int, context: Any) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    entry_point = runner.wrap(handler)
    loops = {entry_point(n, LambdaContext()) for n in range(3)}
    assert loops == {runner.loop}
    assert not runner.loop.is_closed()


def test_the_client_survives_across_invocations(runner: LambdaRunner) -> None:
    transport = FakeTransport()
    db: LambdaDB = runner.run(_make_db(transport))

    async def handler(event: str, context: Any) -> tuple[int, bool]:
        await db.with_lambda_timeout(context).client.call("GetItem", {"TableName": event})
        return id(db.client), db.is_warm_start()

    entry_point = runner.wrap(handler)
    first = entry_point("a", LambdaContext())
    second = entry_point("b", LambdaContext())
    assert first[0] == second[0]
    assert (first[1], second[1]) == (False, True)
    assert transport.operations == ["GetItem", "GetItem"]
    assert not transport.closed
    runner.run(db.aclose())


async def _make_db(transport: FakeTransport) -> LambdaDB:
    return lambda_db(transport)


def test_exceptions_propagate_unchanged(runner: LambdaRunner) -> None:
    declined = PaymentDeclinedError("card declined")

    async def handler(event: Any, context: Any) -> None:
        raise declined

    with pytest.raises(PaymentDeclinedError) as raised:
        runner.wrap(handler)({}, LambdaContext())
    assert raised.value is declined


def test_the_handlers_own_timeout_error_is_not_rewritten(runner: LambdaRunner) -> None:
    own = TimeoutError("psp did not answer")

    async def handler(event: Any, context: Any) -> None:
        raise own

    with pytest.raises(TimeoutError) as raised:
        runner.wrap(handler)({}, LambdaContext())
    assert raised.value is own


def test_tasks_left_by_an_invocation_are_cancelled(runner: LambdaRunner) -> None:
    cancelled = asyncio.Event()
    started: list[asyncio.Task[None]] = []

    async def linger() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def handler(event: Any, context: Any) -> str:
        started.append(asyncio.get_running_loop().create_task(linger()))
        await asyncio.sleep(0)
        return "done"

    assert runner.wrap(handler)({}, LambdaContext()) == "done"
    assert cancelled.is_set()
    assert started[0].cancelled()
    assert asyncio.all_tasks(runner.loop) == set()


def test_a_handler_that_runs_out_of_time_leaves_nothing_pending(runner: LambdaRunner) -> None:
    async def stalled() -> None:
        await never_answers()("GetItem", {})

    async def handler(event: Any, context: Any) -> None:
        asyncio.get_running_loop().create_task(stalled())
        await stalled()

    with pytest.raises(LambdaTimeoutError) as raised:
        runner.wrap(handler)({}, LambdaContext(timeout=0.1))
    assert raised.value.operation == "handler"
    assert asyncio.all_tasks(runner.loop) == set()


def test_without_a_context_the_handler_is_not_bounded(runner: LambdaRunner) -> None:
    async def handler(event: int, context: Any) -> int:
        return event + 1

    assert runner.wrap(handler)(1, None) == 2


def test_init_tasks_keep_running_across_invocations(runner: LambdaRunner) -> None:
    stop = asyncio.Event()

    async def background() -> None:
        await stop.wait()

    async def init() -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(background())

    task = runner.run(init())

    async def handler(event: Any, context: Any) -> None:
        await asyncio.sleep(0)

    runner.wrap(handler)({}, LambdaContext())
    assert not task.done()
    runner.close()
    assert task.cancelled()


async def test_calling_the_entry_point_from_async_code_is_refused(runner: LambdaRunner) -> None:
    async def handler(event: Any, context: Any) -> None:
        return None

    with pytest.raises(UsageError, match="__wrapped__"):
        runner.wrap(handler)({}, LambdaContext())


@pytest.mark.usefixtures("_process_state")
def test_the_decorator_uses_the_process_wide_loop() -> None:
    @lambda_handler
    async def handler(event: Any, context: Any) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def current_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    init_loop = run_in_lambda_loop(current_loop())
    function = LocalLambda(handler)
    assert function.invoke({}) is init_loop
    assert function.invoke({}) is init_loop
    assert handler.__wrapped__ is not None  # type: ignore[attr-defined]


def test_a_retry_with_the_same_request_id_on_a_warm_container_is_warm(
    runner: LambdaRunner,
) -> None:
    # Lambda retries a failed asynchronous invocation with the same aws_request_id.
    async def handler(event: str, context: Any) -> bool:
        warm = invocation_count() > 1
        if event == "fail":
            raise PaymentDeclinedError(event)
        return warm

    entry_point = runner.wrap(handler)
    with pytest.raises(PaymentDeclinedError):
        entry_point("fail", LambdaContext(aws_request_id="req-1"))
    assert entry_point("retry", LambdaContext(aws_request_id="req-1")) is True


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
def test_base_exceptions_propagate_and_the_loop_stays_usable(
    runner: LambdaRunner, error: type[BaseException]
) -> None:
    async def handler(event: str, context: Any) -> str:
        if event == "stop":
            raise error()
        return event

    entry_point = runner.wrap(handler)
    with pytest.raises(error):
        entry_point("stop", LambdaContext())
    assert entry_point("next", LambdaContext()) == "next"


def test_a_handler_that_is_not_async_is_refused_clearly(runner: LambdaRunner) -> None:
    def handler(event: str, context: Any) -> str:
        return event

    with pytest.raises(UsageError, match="async def"):
        runner.invoke(handler, "e", LambdaContext())  # type: ignore[arg-type]


@pytest.mark.parametrize("db_buffer", [0.08, 0.1])
def test_the_db_deadline_fires_before_the_runner_whatever_the_buffer(db_buffer: float) -> None:
    reset_lambda_process()
    runner = LambdaRunner(handler_buffer=0.15)  # more than the DB's: the runner used to win
    db = lambda_db(FakeTransport(never_answers()), buffer=db_buffer)

    async def handler(event: Any, context: Any) -> str:
        ldb = db.with_lambda_timeout(context)
        try:
            await ldb.client.call("GetItem", {"TableName": "t"})
        except LambdaTimeoutError as exc:
            return f"answered after {exc.operation}"
        return "no timeout"

    try:
        assert runner.wrap(handler)({}, LambdaContext(timeout=0.3)) == "answered after GetItem"
    finally:
        runner.close()
        reset_lambda_process()


def test_the_runner_still_cancels_a_handler_that_ignores_the_db_deadline() -> None:
    reset_lambda_process()
    runner = LambdaRunner(handler_buffer=0.15)
    db = lambda_db(FakeTransport(never_answers()), buffer=0.05)

    async def handler(event: Any, context: Any) -> None:
        db.with_lambda_timeout(context)
        await asyncio.Event().wait()  # never looks at the DB deadline

    try:
        with pytest.raises(LambdaTimeoutError) as raised:
            runner.wrap(handler)({}, LambdaContext(timeout=0.2))
        assert raised.value.operation == "handler"
    finally:
        runner.close()
        reset_lambda_process()


def test_a_failed_task_the_handler_abandoned_is_logged_once_by_the_runner(
    runner: LambdaRunner, caplog: pytest.LogCaptureFixture
) -> None:
    async def fails() -> None:
        raise PaymentDeclinedError("abandoned task failed")

    async def handler(event: Any, context: Any) -> str:
        asyncio.get_running_loop().create_task(fails(), name="abandoned")
        for _ in range(3):
            await asyncio.sleep(0)  # it runs and fails before the handler returns
        return "done"

    with caplog.at_level(logging.WARNING):
        assert runner.wrap(handler)({}, LambdaContext()) == "done"
        gc.collect()

    never_retrieved = [r for r in caplog.records if "never retrieved" in r.getMessage()]
    ours = [r for r in caplog.records if r.name == "asyncdynamo.lambda"]
    assert never_retrieved == []
    assert len(ours) == 1
    assert getattr(ours[0], "task_name", None) == "abandoned"
    assert getattr(ours[0], "error_type", None) == "PaymentDeclinedError"


def test_a_task_failure_the_handler_handled_is_not_logged(
    runner: LambdaRunner, caplog: pytest.LogCaptureFixture
) -> None:
    async def fails() -> None:
        raise PaymentDeclinedError("handled")

    async def handler(event: Any, context: Any) -> str:
        task = asyncio.get_running_loop().create_task(fails())
        try:
            await task
        except PaymentDeclinedError:
            return "handled"
        return "not raised"

    with caplog.at_level(logging.WARNING):
        assert runner.wrap(handler)({}, LambdaContext()) == "handled"
        gc.collect()

    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_task_failing_at_the_db_deadline_after_the_handler_answered_is_logged_once(
    runner: LambdaRunner, caplog: pytest.LogCaptureFixture
) -> None:
    db = lambda_db(FakeTransport(never_answers()), buffer=0.1)

    async def handler(event: Any, context: Any) -> str:
        ldb = db.with_lambda_timeout(context)
        background = asyncio.get_running_loop().create_task(
            ldb.client.call("GetItem", {"TableName": "t"}), name="background-read"
        )
        try:
            await ldb.client.call("GetItem", {"TableName": "t"})
        except LambdaTimeoutError:
            # The background read fails at the same deadline; wait() does not retrieve its error.
            await asyncio.wait([background])
            return "answered"
        return "no timeout"

    with caplog.at_level(logging.WARNING):
        assert runner.wrap(handler)({}, LambdaContext(timeout=0.2)) == "answered"
        gc.collect()

    assert [r for r in caplog.records if "never retrieved" in r.getMessage()] == []
    ours = [r for r in caplog.records if r.name == "asyncdynamo.lambda"]
    assert [getattr(r, "error_type", None) for r in ours] == ["LambdaTimeoutError"]
