"""The ``process`` Lambda handler: cold start against plain aiobotocore, warm latency, memory.

Against moto's server in another process (its CPU never counts here):

* ``cold``: a fresh Python process per sample, told it is a 1,024 MB Lambda function, from the
  first import of the handler module to the first payment's 201 (the interpreter's own
  start-up is not counted). ``payments.handlers.process`` builds its runtime while it is
  imported (Lambda's init phase); the baseline is the same route written on plain aiobotocore
  (:mod:`bench._plain_process`), same requests, same run. ``ratio`` is to that baseline.
* ``warm``: one process, invocations of the handler's entry point with fresh idempotency
  keys: p50/p99 per invocation at concurrency 1 (sequential, as one container serves them) and
  32 (32 invocations' coroutines in flight on the one loop, as 32 containers would load moto).
* ``client cpu``: this process's CPU time per warm invocation at concurrency 1 (handler,
  processor, codec, HTTP, the fake card processor; moto's CPU is in the other process).
* ``rss growth``: resident memory after 1,000 warm invocations minus after a warm-up of 50.

Run ``python -m bench.handlers [--quick]``; the bench runner calls :func:`run`.
Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from bench._report import print_table
from bench.transports import child_env, moto_process

__all__ = ["run"]

PREFIX = "bench-handlers-"

_COLD = """\
import time
_t0 = time.perf_counter()
import json, sys
{import_line}
_t1 = time.perf_counter()

class Context:
    aws_request_id = "bench-cold"
    def get_remaining_time_in_millis(self):
        return 30000

response = handler(json.loads(sys.argv[1]), Context())
assert response["statusCode"] == 201, response
_t2 = time.perf_counter()
print(json.dumps({{"import_and_init": (_t1 - _t0) * 1000, "first_payment": (_t2 - _t1) * 1000,
                  "total": (_t2 - _t0) * 1000}}))
"""

STACKS = {
    "asyncdynamo": "from payments.handlers.process import handler",
    "plain aiobotocore": "from bench._plain_process import handler",
}

_WARM = """\
import asyncio, copy, gc, json, sys, time
from payments.handlers import process
from asyncdynamo import run_in_lambda_loop

EVENT = json.loads(sys.argv[1])
SEQUENTIAL, ROUNDS, GROWTH = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

class Context:
    def __init__(self, n):
        self.aws_request_id = f"bench-{n}"
    def get_remaining_time_in_millis(self):
        return 30000

def event(key):
    e = copy.deepcopy(EVENT)
    e["headers"]["idempotency-key"] = key
    return e

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

n = 0
def invoke(prefix):
    global n
    n += 1
    started = time.perf_counter()
    response = process.handler(event(f"{prefix}-{n}"), Context(n))
    assert response["statusCode"] == 201, response
    return (time.perf_counter() - started) * 1000

for _ in range(50):
    invoke("warmup")
cpu_started = time.process_time()
sequential = [invoke("seq") for _ in range(SEQUENTIAL)]
cpu_ms = (time.process_time() - cpu_started) / SEQUENTIAL * 1000

async def concurrent_round(r):
    loop = asyncio.get_running_loop()
    async def one(i):
        started = loop.time()
        response = await process.handler.__wrapped__(event(f"c32-{r}-{i}"), Context(i))
        assert response["statusCode"] == 201, response
        return (loop.time() - started) * 1000
    return await asyncio.gather(*(one(i) for i in range(32)))

concurrent = []
for r in range(ROUNDS):
    concurrent += run_in_lambda_loop(concurrent_round(r))

gc.collect()
before = rss_mb()
for _ in range(GROWTH):
    invoke("rss")
gc.collect()
after = rss_mb()
print(json.dumps({"sequential": sequential, "concurrent": concurrent, "cpu_ms": cpu_ms,
                  "rss_before": before, "rss_after": after}))
"""


def _env(url: str) -> dict[str, str]:
    return child_env(
        AWS_REGION="us-east-1",
        AWS_LAMBDA_FUNCTION_NAME="bench-process",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_EXECUTION_ENV=f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        PAYMENTS_ENDPOINT_URL=url,
        PAYMENTS_TABLE_PREFIX=PREFIX,
        PAYMENTS_GATEWAY="bench._gateway:StatelessGateway",
        PAYMENTS_LOG_LEVEL="WARNING",
    )


def _event() -> dict[str, Any]:
    from payments.events import load_event

    event = load_event("process_create")
    event["headers"]["idempotency-key"] = f"cold-{uuid.uuid4().hex}"
    return event


def _run(args: Sequence[str], url: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=_env(url), check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark process failed:\n{completed.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _seed(url: str) -> None:
    import asyncio

    from asyncdynamo import DB, Config, Credentials, TransportKind
    from payments import PROCESSOR_MODELS, Merchant
    from payments._reconcile import ReconciliationReport

    async def seed() -> None:
        config = Config(
            region="us-east-1",
            endpoint_url=url,
            credentials=Credentials("testing", "testing"),
            transport=TransportKind.LEAN,
            table_prefix=PREFIX,
        )
        async with DB(config) as db:
            await db.schema.create(*PROCESSOR_MODELS, ReconciliationReport)
            await db.put(Merchant(merchant_id="m-acme", name="Acme", currencies=["USD"]))

    asyncio.run(seed())


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _row(case: str, value: float, unit: str, ratio: float | None = None) -> dict[str, object]:
    return {
        "bench": "handlers",
        "case": case,
        "value": round(value, 2),
        "unit": unit,
        "ratio": None if ratio is None else round(ratio, 3),
    }


def run(quick: bool = False) -> list[dict[str, object]]:
    """Cold start vs plain aiobotocore, warm p50/p99 at concurrency 1 and 32, RSS growth.

    Args:
        quick: fewer cold processes and warm invocations (the RSS run keeps 1,000).
    """
    repeats = 3 if quick else 9
    sequential, rounds, growth = (100, 4, 1000) if quick else (300, 10, 1000)
    rows: list[dict[str, object]] = []
    with moto_process() as url:
        _seed(url)
        medians: dict[str, dict[str, float]] = {}
        for stack, import_line in STACKS.items():
            script = _COLD.format(import_line=import_line)
            _run(["-c", script, json.dumps(_event())], url)  # unmeasured: fills the caches
            samples = [_run(["-c", script, json.dumps(_event())], url) for _ in range(repeats)]
            medians[stack] = {
                phase: statistics.median(float(str(s[phase])) for s in samples)
                for phase in ("import_and_init", "first_payment", "total")
            }
        base = medians["plain aiobotocore"]["total"]
        for stack, phases in medians.items():
            for phase, value in phases.items():
                ratio = value / base if phase == "total" else None
                rows.append(_row(f"cold {stack}: {phase}", value, "ms", ratio))
        warm = _run(
            ["-c", _WARM, json.dumps(_event()), str(sequential), str(rounds), str(growth)], url
        )
    for label, key in (("concurrency 1", "sequential"), ("concurrency 32", "concurrent")):
        values = [float(v) for v in warm[key]]
        rows.append(_row(f"warm {label}: p50", statistics.median(values), "ms"))
        rows.append(_row(f"warm {label}: p99", _percentile(values, 0.99), "ms"))
    rows.append(_row("warm concurrency 1: client cpu per invocation", float(warm["cpu_ms"]), "ms"))
    growth_mb = float(str(warm["rss_after"])) - float(str(warm["rss_before"]))
    rows.append(_row(f"rss growth over {growth} warm invocations", growth_mb, "MB"))
    rows.append(_row("rss after them", float(str(warm["rss_after"])), "MB"))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry: print the results as a table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description="The process handler: cold, warm, memory")
    parser.add_argument("--quick", action="store_true", help="fewer processes and invocations")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    rows = run(quick=options.quick)
    if options.json:
        print(json.dumps(rows, indent=2))
    else:
        print_table(rows)


if __name__ == "__main__":
    main()
