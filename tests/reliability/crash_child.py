"""A process that pays and is killed at a crash point: ``python -m tests.reliability.crash_child ARGS``.

``ARGS`` is a pickle of ``(config, point, directory, key)``. At ``"claimed"`` or ``"charged"`` the
child prints the point's name and waits to be killed; at ``"transaction"`` the test's proxy
holds its TransactWriteItems and the test kills it there.
"""

from __future__ import annotations

import asyncio
import pickle
import sys
from pathlib import Path

from asyncdynamo import DB, Config
from payments import Processor
from tests.payments.conftest import payment_request
from tests.reliability.crash_gateway import FileGateway, stop_at


def _reached(point: str) -> None:
    print(point, flush=True)


async def main(config: Config, point: str, directory: Path, key: str) -> None:
    gateway = FileGateway(directory=directory, stop=stop_at(point, lambda: _reached(point)))
    async with DB(config) as db:
        await Processor(db, gateway=gateway).process_payment(payment_request(), idempotency_key=key)
    print("finished", flush=True)  # the test treats this as a failure to crash


if __name__ == "__main__":
    arguments = pickle.loads(Path(sys.argv[1]).read_bytes())
    asyncio.run(main(*arguments))
