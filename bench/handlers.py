"""The ``process`` Lambda handler: cold start against plain aiobotocore, warm latency, memory.

Against the run's moto server (another process, so its CPU never counts here):

* cold start: a fresh Python process per sample (the two stacks interleaved), told it is a
  1,024 MB Lambda function with the template's ``PYDANTIC_DISABLE_PLUGINS``, from the first
  import of the handler module to the first payment's 201 (the interpreter's own start-up is not
  counted): wall clock per phase, and the process's CPU for the whole path (which, unlike the
  wall clock, leaves out moto's time to answer). ``payments.handlers.process`` builds its
  runtime while it is imported (Lambda's init phase); the baseline is the same route written on
  plain aiobotocore (:mod:`bench._plain_process`), same requests, same run. When ``valgrind``
  is installed (and not with ``--quick``), one cold path per stack also runs under callgrind,
  which counts the instructions it executes (repeatable to well under 1%).
* warm: one process per stack, invocations of the handler with fresh idempotency keys: p50/p99
  per invocation at concurrency 1 (sequential, as one container serves them) and 32 (32
  invocations' coroutines in flight on the one loop, as 32 containers would load moto), and this
  process's CPU per sequential invocation (asyncdynamo against plain aiobotocore).
* RSS growth: resident memory after N warm invocations minus before them (1,000 by default).

moto's ``TransactWriteItems`` deep-copies every table the transaction names before applying it,
so its cost and moto's memory grow with the tables: the payment tables are emptied (deleted and
created again, by this process) between phases and every 100 invocations, never inside a timed
stretch (the child waits, idle, while it happens). Nothing here asserts a timing.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench import _instructions
from bench._child import run_streaming
from bench._core import Chart, ChartKind, Measurement, Step, SuiteContext, SuiteResult, register
from bench._handler_scripts import COLD, WARM
from bench._servers import child_env

__all__ = ["Sizes", "handler_result", "run", "sizes"]

PREFIX = "bench-handlers-"
OURS, PLAIN = "asyncdynamo", "plain aiobotocore"
STACKS = {
    OURS: "from payments.handlers.process import handler\nfrom asyncdynamo import run_in_lambda_loop",
    PLAIN: "from bench._plain_process import handler",
}
PHASES = {
    "total": "cold start: handler import to first payment's 201",
    "cpu": "cold start CPU: handler import to first payment's 201",
    "import_and_init": "cold start: import and init (Lambda's init phase)",
    "first_payment": "cold start: first payment",
}
INSTRUCTIONS = "cold start instructions (callgrind): handler import to first payment's 201"
RESET_EVERY = 100


@dataclass(frozen=True, slots=True)
class Sizes:
    """How many samples a run takes."""

    cold: int  # fresh processes per stack (plus one unmeasured)
    warmup: int
    sequential: int
    rounds: int  # rounds of 32 concurrent invocations
    growth: int  # invocations between the two RSS readings


def sizes(quick: bool, full: bool) -> Sizes:
    """Quick: seconds; default: the issue's 1,000 invocations for RSS growth; full: more samples."""
    if quick:
        return Sizes(cold=3, warmup=20, sequential=50, rounds=1, growth=200)
    if full:
        return Sizes(cold=15, warmup=50, sequential=500, rounds=10, growth=1000)
    return Sizes(cold=7, warmup=30, sequential=200, rounds=4, growth=1000)


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def handler_result(
    cold: Mapping[str, Sequence[Mapping[str, float]]],
    warm: Mapping[str, Mapping[str, Any]],
    instructions: Mapping[str, float] | None = None,
) -> SuiteResult:
    """Measurements, notes and charts from the raw samples (pure: no servers).

    Args:
        cold: ``{stack: [{"import_and_init", "first_payment", "total", "cpu"} per process]}``.
        warm: ``{stack: the warm script's JSON}``; the plain stack has no concurrent rounds
            and no RSS readings.
        instructions: ``{stack: millions of instructions of one cold path}`` (callgrind), if
            counted.
    """
    rows: list[Measurement] = []
    medians: dict[str, dict[str, float]] = {}
    for phase, group in PHASES.items():
        for stack, samples in cold.items():
            values = tuple(float(s[phase]) for s in samples)
            medians.setdefault(stack, {})[phase] = statistics.median(values)
            rows.append(
                Measurement(group, stack, medians[stack][phase], "ms", stack == PLAIN, values)
            )
    for stack, millions in (instructions or {}).items():
        rows.append(Measurement(INSTRUCTIONS, stack, millions, "M", baseline=stack == PLAIN))
    for stack, result in warm.items():
        rows.append(
            Measurement(
                "client CPU per warm invocation (concurrency 1)",
                stack,
                float(result["cpu_ms"]),
                "ms",
                baseline=stack == PLAIN,
            )
        )
    ours = warm.get(OURS, {})
    latencies = {
        f"concurrency {level}": [float(v) for v in ours.get(key, [])]
        for level, key in ((1, "sequential"), (32, "concurrent"))
    }
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        for case, invocations in latencies.items():
            if invocations:
                rows.append(
                    Measurement(
                        f"asyncdynamo warm latency per invocation, {label}",
                        case,
                        _percentile(invocations, fraction),
                        "ms",
                        samples=tuple(invocations),
                        note=f"{len(invocations)} invocations" if label == "p50" else "",
                    )
                )
    rss = [float(v) for v in ours.get("rss", [])]
    notes = [
        "cold start: import and init is the module's import, which builds the runtime "
        "(Lambda's init phase); the interpreter's own start-up is not counted; the wall-clock "
        "phases include moto's time to answer, the CPU row only this process's",
        "warm latency: no baseline (the plain handler is measured for CPU only); moto's own "
        "CPU per request dominates it on a shared machine",
    ]
    if len(rss) == 2:
        growth = int(ours.get("growth", 0))
        rows.append(
            Measurement(f"RSS growth over {growth:,} warm invocations", OURS, rss[1] - rss[0], "MB")
        )
        rows.append(Measurement("RSS after them", OURS, rss[1], "MB"))
    charts = [
        Chart(
            name="handlers_cold_start",
            title="process handler: cold start by phase (ms, lower is better)",
            kind=ChartKind.STACKED,
            unit="ms",
            series={
                stack: {
                    "import and init": phases["import_and_init"],
                    "first payment": phases["first_payment"],
                }
                for stack, phases in medians.items()
            },
        )
    ]
    if any(latencies.values()):
        charts.append(
            Chart(
                name="handlers_warm_latency",
                title="process handler: warm latency per invocation (ms)",
                kind=ChartKind.DISTRIBUTION,
                unit="ms",
                samples={case: values for case, values in latencies.items() if values},
            )
        )
    return SuiteResult(rows, notes, charts)


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
        # as deploy/template.yaml sets it for the functions (the plain stack has no pydantic)
        PYDANTIC_DISABLE_PLUGINS="__all__",
    )


def _event() -> str:
    from payments.events import load_event

    event = load_event("process_create")
    event["headers"]["idempotency-key"] = f"bench-{uuid.uuid4().hex}"
    return json.dumps(event)


def _child(args: Sequence[str], url: str, step: Step, reset: Callable[[], None]) -> dict[str, Any]:
    return run_streaming(args, _env(url), step, reset)


def _tables(url: str, *, fresh: bool) -> None:
    """Create the handler's tables and its merchant; ``fresh`` first deletes the tables the
    payment transaction writes (the merchant's table stays)."""
    from asyncdynamo import DB, Config, Credentials, TransportKind
    from payments import PROCESSOR_MODELS, Merchant
    from payments._reconcile import ReconciliationReport

    written = [m for m in PROCESSOR_MODELS if m is not Merchant]

    async def build() -> None:
        config = Config(
            region="us-east-1",
            endpoint_url=url,
            credentials=Credentials("testing", "testing"),
            transport=TransportKind.LEAN,
            table_prefix=PREFIX,
        )
        async with DB(config) as db:
            if fresh:
                await db.schema.delete(*written)
                await db.schema.create(*written)
                return
            await db.schema.delete(*PROCESSOR_MODELS, ReconciliationReport)
            await db.schema.create(*PROCESSOR_MODELS, ReconciliationReport)
            await db.put(Merchant(merchant_id="m-acme", name="Acme", currencies=["USD"]))

    asyncio.run(build())


def run(ctx: SuiteContext) -> SuiteResult:
    """Cold start vs plain aiobotocore, warm p50/p99 at concurrency 1 and 32, CPU, RSS growth."""
    size = sizes(ctx.quick, ctx.full)
    url = ctx.moto()
    _tables(url, fresh=False)

    def reset() -> None:
        _tables(url, fresh=True)

    cold: dict[str, list[dict[str, float]]] = {stack: [] for stack in STACKS}
    scripts = {stack: COLD.format(import_line=line) for stack, line in STACKS.items()}
    label = f"cold start: {size.cold} fresh processes per stack, interleaved"
    with ctx.case(label, len(STACKS) * (size.cold + 1)) as step:
        for script in scripts.values():  # unmeasured: fills the bytecode cache
            _child(["-c", script, _event()], url, step, reset)
            step(1)
        for _ in range(size.cold):
            for stack, script in scripts.items():
                cold[stack].append(_child(["-c", script, _event()], url, step, reset))
                step(1)
    counted: dict[str, float] | None = None
    if _instructions.available() and not ctx.quick:
        counted = {}
        with ctx.case("cold start instructions (callgrind)", len(STACKS) + 1) as step:
            startup = _instructions.startup_instructions(_env(url))
            step(1)
            for stack, script in scripts.items():
                count = _instructions.instructions(["-c", script, _event()], _env(url))
                counted[stack] = (count - startup) / 1e6
                step(1)
    reset()
    warm: dict[str, dict[str, Any]] = {}
    for stack, import_line in STACKS.items():
        ours = stack == OURS
        counts = (
            size.warmup,
            size.sequential,
            size.rounds if ours else 0,
            size.growth if ours else 0,
            RESET_EVERY,
        )
        total = size.warmup + size.sequential + (32 * size.rounds + size.growth if ours else 0)
        label = f"warm, {stack}: {size.sequential} sequential"
        if ours:
            label += f", {size.rounds}×32 concurrent, {size.growth} for RSS"
        with ctx.case(label, total) as step:
            script = WARM.format(import_line=import_line)
            warm[stack] = _child(["-c", script, _event(), *map(str, counts)], url, step, reset)
            warm[stack]["growth"] = counts[3]
        reset()
    return handler_result(cold, warm, counted)


register(
    "handlers",
    "the process Lambda handler: cold start vs plain aiobotocore, warm latency, CPU, RSS",
    run,
    order=80,
)
