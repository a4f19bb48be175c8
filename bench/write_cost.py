"""Client CPU per single-item write (no network): what the write path costs above the transport.

```
python -m bench.write_cost            # update and put, 20,000 each, best of 5
```
The transport is an in-process stub answering at once, so the numbers are the library's own
work per write: building the request (write token included), sending it through the client's
retry loop, decoding the answer.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from asyncdynamo import DB, Config, Model, PartitionKey, Update, UpdatedAt, Version

__all__ = ["main", "measure"]


class Wallet(Model):
    __table__ = "wallets"

    wallet_id: Annotated[str, PartitionKey]
    owner: str = "ann"
    balance: int = 0
    updated_at: Annotated[datetime | None, UpdatedAt] = None
    version: Annotated[int, Version] = 0


_STORED = {
    "wallet_id": {"S": "w1"},
    "owner": {"S": "ann"},
    "balance": {"N": "400"},
    "updated_at": {"S": "2026-01-01T00:00:00+00:00"},
    "version": {"N": "2"},
}


class _Instant:
    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"Attributes": _STORED} if operation == "UpdateItem" else {}

    async def aclose(self) -> None:
        pass


async def measure(writes: int) -> dict[str, float]:
    """Microseconds of process CPU per ``update`` and per ``put`` (best of 5 runs)."""
    db = DB(Config(region="us-east-1"), transport=_Instant())
    wallet = Wallet(wallet_id="w1", balance=500, version=1)
    change = Update().increment("balance", -100)
    results: dict[str, float] = {}
    for name in ("update", "put"):
        best = float("inf")
        for _ in range(5):
            started = time.process_time()
            for _ in range(writes):
                if name == "update":
                    await db.update(wallet, changes=change)
                else:
                    await db.put(wallet, overwrite=True)
            best = min(best, time.process_time() - started)
        results[name] = best / writes * 1e6
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_cost")
    parser.add_argument("--writes", type=int, default=20_000)
    args = parser.parse_args(argv)
    for name, micros in asyncio.run(measure(args.writes)).items():
        print(f"{name:7} {micros:7.1f} µs CPU per write")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
