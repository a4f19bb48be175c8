"""A payment that stops at any point is finished by a retry with exactly one charge.

The paying call is cancelled (in this process) or killed with SIGKILL (in a child process) after
claiming the key, after the card processor charged but before recording, and during the
transaction (held by the proxy before or after the server applied it). A retry then ends with
one charge, one payment and no idempotency record left in progress. After a kill the retry's
clock is moved past the lease; after a cancellation the lease was released, so the retry runs
on the real clock.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asyncdynamo import DB, Config
from asyncdynamo.testing import FaultProxy, Stage, Stall
from payments import (
    PROCESSOR_MODELS,
    IdempotencyRecord,
    IdempotencyState,
    Merchant,
    Payment,
    PaymentConfig,
    Processor,
)
from tests.payments.conftest import MERCHANT_ID, MakeTables, payment_request
from tests.reliability.crash_gateway import FileGateway, stop_at
from tests.reliability.soak import scaled

pytestmark = pytest.mark.integration

POINTS = ["claimed", "charged", "transaction"]
CANCELLED_RUNS = scaled(2, at_most=200)
KILLED_RUNS = scaled(1, at_most=200)
LEASE = PaymentConfig().in_progress_lease
ROOT = Path(__file__).resolve().parents[2]


def _after_the_lease() -> datetime:
    return datetime.now(UTC) + LEASE + timedelta(seconds=1)


async def _retry_and_check(
    db: DB, directory: Path, key: str, runs: int, clock: Callable[[], datetime] | None = None
) -> None:
    config = db.config
    async with DB(config, clock=clock) if clock else DB(config) as retrying:
        gateway = FileGateway(directory=directory)
        result = await Processor(retrying, gateway=gateway).process_payment(
            payment_request(), idempotency_key=key
        )
    assert list(gateway.charges_by_key().values()) == [1]  # one key, charged once
    payments = {p.payment_id for p in await db.scan(Payment).all()}
    assert len(payments) == runs  # one per run so far
    assert result.payment.payment_id in payments


@pytest.fixture
async def tables(db: DB, make_tables: MakeTables) -> DB:
    await make_tables(*PROCESSOR_MODELS)
    await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme", currencies=["USD"]))
    return db


def _stalled(proxy: FaultProxy, run: int) -> object:
    stage = Stage.BEFORE_FORWARD if run % 2 else Stage.AFTER_FORWARD
    return proxy.inject(Stall(stage=stage), operation="TransactWriteItems", first=1)


@pytest.mark.parametrize("point", POINTS)
async def test_a_cancelled_payment_is_finished_by_a_retry_with_one_charge(
    tables: DB, dynamo_config: Config, fault_proxy: FaultProxy, tmp_path: Path, point: str
) -> None:
    config = replace(dynamo_config, endpoint_url=fault_proxy.url)
    for run in range(CANCELLED_RUNS):
        key, directory = f"{point}-{run}", tmp_path / str(run)
        directory.mkdir()
        reached = asyncio.Event()
        stall = _stalled(fault_proxy, run) if point == "transaction" else None
        gateway = FileGateway(directory=directory, stop=stop_at(point, reached.set))
        async with DB(config) as proxied:
            paying = asyncio.create_task(
                Processor(proxied, gateway=gateway).process_payment(
                    payment_request(), idempotency_key=key
                )
            )
            async with asyncio.timeout(30):
                if stall is None:
                    await reached.wait()
                else:
                    await fault_proxy.wait_for_injected(stall)  # type: ignore[arg-type]
            paying.cancel()
            with pytest.raises(asyncio.CancelledError):
                await paying
        fault_proxy.clear()

        await _retry_and_check(tables, directory, key, run + 1)

    records = await tables.scan(IdempotencyRecord).all()
    assert [r.state for r in records] == [IdempotencyState.COMPLETED] * CANCELLED_RUNS


@pytest.mark.parametrize("point", POINTS)
async def test_a_killed_payment_is_finished_by_a_retry_after_the_lease_with_one_charge(
    tables: DB, dynamo_config: Config, fault_proxy: FaultProxy, tmp_path: Path, point: str
) -> None:
    config = replace(dynamo_config, endpoint_url=fault_proxy.url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for run in range(KILLED_RUNS):
        key, directory = f"{point}-{run}", tmp_path / str(run)
        directory.mkdir()
        arguments = tmp_path / f"args-{run}.pickle"
        arguments.write_bytes(pickle.dumps((config, point, directory, key)))
        stall = _stalled(fault_proxy, run) if point == "transaction" else None
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reliability.crash_child",
            str(arguments),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
        )
        assert child.stdout is not None
        try:
            async with asyncio.timeout(60):
                if stall is None:
                    assert (await child.stdout.readline()).decode().strip() == point
                else:
                    await fault_proxy.wait_for_injected(stall)  # type: ignore[arg-type]
        finally:
            child.send_signal(signal.SIGKILL)
            await child.wait()
        assert child.returncode == -signal.SIGKILL
        fault_proxy.clear()

        await _retry_and_check(tables, directory, key, run + 1, clock=_after_the_lease)

    records = await tables.scan(IdempotencyRecord).all()
    assert [r.state for r in records] == [IdempotencyState.COMPLETED] * KILLED_RUNS
