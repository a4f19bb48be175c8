"""Handler invocations through asyncdynamo's Lambda runner, with injected latency and stalls.

Each invocation runs on the runner's one loop (as in a warm container) and calls the database
through ``LambdaDB.with_lambda_timeout(context)``; the proxy adds random latency to every request
and stalls some. What must hold: an invocation ends with its result or ``LambdaTimeoutError``,
never after Lambda's own timeout, and leaves no task running. How far past
``deadline - timeout_buffer`` the worst call ended is measured and printed, not asserted.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from asyncdynamo import (
    Config,
    LambdaConfig,
    LambdaDB,
    LambdaEnvironment,
    LambdaRunner,
    LambdaTimeoutError,
)
from asyncdynamo.lambda_testing import LambdaContext, LocalLambda
from asyncdynamo.testing import Delay, FaultProxy, Stall
from tests.models import Note
from tests.reliability.soak import scaled

pytestmark = pytest.mark.integration

RUNS = scaled(30, at_most=300)
TIMEOUT = 0.8  # the context's seconds
DB_BUFFER = 0.2  # LambdaConfig.timeout_buffer: the DB's deadline is TIMEOUT - DB_BUFFER
RUNNER_BUFFER = 0.1


@pytest.fixture
async def notes(make_tables: Callable[..., Awaitable[list[str]]]) -> None:
    await make_tables(Note)


@pytest.mark.usefixtures("notes")
def test_handler_runs_with_latency_end_in_time_and_leave_no_tasks(
    dynamo_config: Config, fault_proxy: FaultProxy
) -> None:
    runner = LambdaRunner(handler_buffer=RUNNER_BUFFER)
    config = LambdaConfig(
        base_config=replace(dynamo_config, endpoint_url=fault_proxy.url),
        timeout_buffer=DB_BUFFER,
        environment=LambdaEnvironment(),
    )

    async def init() -> LambdaDB:
        return LambdaDB(config)

    db = runner.run(init())

    async def handler(event: dict[str, Any], context: LambdaContext) -> str:
        ldb = db.with_lambda_timeout(context)
        note = await ldb.put(Note(note_id=event["id"], text="hello"))
        await ldb.get(Note, note.note_id, required=True)
        await ldb.delete(note)
        return "ok"

    function = LocalLambda(lambda event, context: runner.invoke(handler, event, context))
    runner.run(db.get(Note, "warm-up"))  # the client is built before the clocks run
    background = {task for task in asyncio.all_tasks(runner.loop) if not task.done()}
    stalls = fault_proxy.inject(Stall(), probability=0.05)  # the first matching rule applies
    fault_proxy.inject(Delay(0.0, jitter=0.05))
    outcomes: Counter[str] = Counter()
    worst_overrun = float("-inf")
    late: list[float] = []
    leftovers: list[int] = []
    try:
        for run in range(RUNS):
            context = LambdaContext(timeout=TIMEOUT)
            db_deadline = time.monotonic() + TIMEOUT - DB_BUFFER
            try:
                outcomes[function.invoke({"id": f"n{run}"}, context)] += 1
            except LambdaTimeoutError:
                outcomes["timeout"] += 1
            ended = time.monotonic()
            worst_overrun = max(worst_overrun, ended - db_deadline)
            if context.get_remaining_time_in_millis() <= 0:
                late.append(ended - db_deadline)
            pending = {t for t in asyncio.all_tasks(runner.loop) if not t.done()} - background
            leftovers.append(len(pending))
    finally:
        fault_proxy.release()
        runner.run(db.aclose())
        runner.close()

    print(
        f"\nhandler runs {RUNS}: {dict(outcomes)}, worst end past deadline - buffer: "
        f"{worst_overrun * 1000:.1f} ms, ended after Lambda's timeout: {len(late)}, "
        f"proxy {fault_proxy.counts()}"
    )
    assert sum(outcomes.values()) == RUNS
    assert set(outcomes) <= {"ok", "timeout"}
    assert late == []
    assert leftovers == [0] * RUNS
    assert stalls.injected > 0 and outcomes["timeout"] > 0
