"""Read-then-write contention on one versioned item costs the same on both transports.

A writer that has just read the item gets a free connection for its write before requests that
queued meanwhile (as aiohttp's connector does). With one connection every writer then reads and
writes back to back and nobody conflicts; a strictly first-come queue made all N reads go first
and every write but one fail (N*(N-1)/2 conflicts). ``python -m bench.contention`` runs the
50-writer version and prints the counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from asyncdynamo import DB, Config
from bench.contention import Counter, contend

WRITERS = 8


async def test_read_then_write_on_one_connection_never_conflicts(
    dynamo_config: Config, make_tables: Callable[..., Awaitable[list[str]]]
) -> None:
    await make_tables(Counter)
    async with DB(replace(dynamo_config, max_pool_connections=1)) as db:
        result = await contend(db, WRITERS)

    assert result.final_value == WRITERS
    assert result.conflicts == 0
    assert result.calls == 2 * WRITERS  # one read and one write each
