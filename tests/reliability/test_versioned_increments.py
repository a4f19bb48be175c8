"""Concurrent versioned read-modify-write increments with injected conflicts end exact.

Tasks read a counter and write ``balance + 1`` under the version they read, half of them with
``UpdateItem``, half in a transaction. Conflicts are injected two ways, each on 20% of the
attempts: a rival writer increments the counter between a task's read and its write (a real
version conflict: the server answers ``ConditionalCheckFailedException`` with the item, or
cancels the transaction), and the proxy cancels transactions with ``TransactionConflict``
without forwarding them. On a conflict a task reads again and retries. Nothing may be lost or
counted twice: the final balance is exactly the tasks' increments plus the rival's.

(A bare ``ConditionalCheckFailedException`` from the proxy is not a realistic conflict here:
DynamoDB returns the current item with it, and without one asyncdynamo correctly reports that the
item does not exist.)
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import replace

import pytest

from asyncdynamo import (
    DB,
    Config,
    RetryPolicy,
    TransactionFailedError,
    Update,
    VersionConflictError,
)
from asyncdynamo.testing import FaultProxy, TransactionConflict
from tests.models import Account
from tests.payments.conftest import MakeTables
from tests.reliability.soak import scaled

pytestmark = pytest.mark.integration

TASKS = scaled(5, at_most=50)
INCREMENTS = scaled(4, at_most=20)
CONFLICTS = 0.2


async def test_versioned_increments_with_injected_conflicts_end_exact(
    db: DB, dynamo_config: Config, fault_proxy: FaultProxy, make_tables: MakeTables
) -> None:
    await make_tables(Account)
    await db.put(Account(account_id="a", owner="ann"))
    cancelled = fault_proxy.inject(
        TransactionConflict(), operation="TransactWriteItems", probability=CONFLICTS
    )
    rng = random.Random(13)
    config = replace(
        dynamo_config, endpoint_url=fault_proxy.url, retry=RetryPolicy(base=0.002, cap=0.02)
    )
    retries: Counter[str] = Counter()

    async with DB(config) as proxied:

        async def increment(in_transaction: bool) -> None:
            while True:
                account = await proxied.get(Account, "a", consistent=True, required=True)
                changes = Update().set("balance", account.balance + 1)
                if rng.random() < CONFLICTS:
                    await db.update(
                        Account,
                        "a",
                        changes=Update().increment("balance", 1),
                        skip_version_check=True,
                    )
                    retries["rival"] += 1
                try:
                    if in_transaction:
                        async with proxied.transaction() as tx:
                            tx.update(account, changes=changes)
                    else:
                        await proxied.update(account, changes=changes)
                except (VersionConflictError, TransactionFailedError) as exc:
                    retries[type(exc).__name__] += 1
                    continue
                return

        async def work(task: int) -> None:
            for _ in range(INCREMENTS):
                await increment(in_transaction=task % 2 == 1)

        async with asyncio.TaskGroup() as group:
            for task in range(TASKS):
                group.create_task(work(task))

    final = await db.get(Account, "a", consistent=True, required=True)
    print(
        f"\nincrements {TASKS}x{INCREMENTS}: final={final.balance} version={final.version} "
        f"conflicts seen={dict(retries)} transaction conflicts injected={cancelled.injected}"
    )
    assert final.balance == TASKS * INCREMENTS + retries["rival"]
    assert final.version == 1 + final.balance
    assert retries["rival"] > 0
    assert cancelled.injected > 0
