"""N writers increment one versioned item (read, update with the version read, retry on
conflict), on each transport, counting conflicts and the HTTP requests the server received.

```
python -m bench.contention                  # 50 writers, both transports, a local moto server
python -m bench.contention --writers 20 --rounds 3
```
Counts are what to compare across transports; the elapsed time is for reading only.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated

from asyncdynamo import (
    DB,
    Config,
    Model,
    PartitionKey,
    TransportKind,
    Update,
    Version,
    VersionConflictError,
)
from asyncdynamo.local import MotoServer, config_for

__all__ = ["ContentionResult", "Counter", "contend", "main"]


class Counter(Model):
    __table__ = "contention"

    counter_id: Annotated[str, PartitionKey]
    value: int = 0
    version: Annotated[int, Version] = 0


@dataclass(frozen=True, slots=True)
class ContentionResult:
    writers: int
    final_value: int
    conflicts: int
    reads: int
    calls: int
    elapsed: float


async def contend(db: DB, writers: int, key: str = "c1") -> ContentionResult:
    """``writers`` tasks each add 1 to ``key`` once, re-reading after every version conflict."""
    await db.put(Counter(counter_id=key), overwrite=True)
    conflicts = 0
    reads = 0
    calls = 0

    def count(*_: object) -> None:
        nonlocal calls
        calls += 1

    db.client.observers.append(count)

    async def one_writer() -> None:
        nonlocal conflicts, reads
        while True:
            reads += 1
            current = await db.get(Counter, key, consistent=True, required=True)
            try:
                await db.update(current, changes=Update().increment("value", 1))
                return
            except VersionConflictError:
                conflicts += 1

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(writers):
            group.create_task(one_writer())
    elapsed = time.perf_counter() - started
    db.client.observers.remove(count)
    final = await db.get(Counter, key, consistent=True, required=True)
    return ContentionResult(writers, final.value, conflicts, reads, calls, elapsed)


async def _run(config: Config, writers: int, rounds: int) -> None:
    for kind in (TransportKind.AIOBOTOCORE, TransportKind.LEAN):
        async with DB(replace(config, transport=kind)) as db:
            await db.schema.create(Counter)
            try:
                for round_ in range(rounds):
                    result = await contend(db, writers, key=f"c{round_}")
                    print(
                        f"{kind.value:12} writers={result.writers} final={result.final_value} "
                        f"conflicts={result.conflicts} calls={result.calls} "
                        f"elapsed={result.elapsed:.2f}s",
                        flush=True,
                    )
            finally:
                await db.schema.delete(Counter)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.contention")
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=None, help="max_pool_connections")
    args = parser.parse_args(argv)
    with MotoServer() as server:
        config = config_for(server.endpoint, table_prefix="bench-")
        if args.pool is not None:
            config = replace(config, max_pool_connections=args.pool)
        asyncio.run(_run(config, args.writers, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
