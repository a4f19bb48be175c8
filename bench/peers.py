"""Peers in the same run: asyncdynamo against pydynox, aiodynamo, PynamoDB, boto3 and aiobotocore.

The same operations on the same data (``bench/_peer_data.py``), each stack in its own fresh
processes (``bench/_peer_drivers.py``), the stacks interleaved round by round, medians, ratios
to asyncdynamo (lean transport, with model validation) from this run:

* cold path: script start → imports → client → first GetItem result (wall and CPU), and the
  process's peak RSS at that point;
* warm client CPU per GetItem, PutItem and Query (10 items), and GetItem latency;
* 64 GetItems in flight (async stacks): CPU per request.

A peer that is not installed is skipped with a note (``pip install 'asyncdynamo-lambda[peers]'``).
The codec comparison is in the ``codec`` suite, RSS growth over warm calls in ``memory``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bench._core import Chart, ChartKind, Measurement, Step, SuiteContext, SuiteResult, register
from bench._peer_data import GET_KEY, ITEM, QUERY_ITEMS, QUERY_PK, TABLE, wire
from bench._peer_drivers import ASYNC_STACKS, DRIVERS, REQUIRES, script
from bench._servers import child_env, seed_table

__all__ = ["available", "driver_scripts", "interleaved_rounds", "run", "run_driver", "seed"]

OURS = "asyncdynamo"
PEERS = ("asyncdynamo", "pydynox", "aiodynamo", "PynamoDB", "boto3", "aiobotocore")


def available(stacks: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(installed stacks, notes for the missing ones)``."""
    found, notes = [], []
    for stack in stacks:
        if importlib.util.find_spec(REQUIRES[stack]) is None:
            notes.append(
                f"{stack}: skipped, not installed (pip install 'asyncdynamo-lambda[peers]')"
            )
        else:
            found.append(stack)
    return found, notes


def seed(url: str) -> None:
    """Create the peers' table on ``url`` (once) with the item to get and the partition to query."""
    items = [{**ITEM, **GET_KEY}] + [
        {**ITEM, "pk": QUERY_PK, "sk": f"{n:02d}"} for n in range(QUERY_ITEMS)
    ]
    seed_table(url, TABLE, {"pk": "HASH", "sk": "RANGE"}, [wire(item)["M"] for item in items])


@contextmanager
def driver_scripts(stacks: Sequence[str]) -> Iterator[dict[str, str]]:
    paths: dict[str, str] = {}
    try:
        for stack in stacks:
            with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
                handle.write(script(stack))
            paths[stack] = handle.name
        yield paths
    finally:
        for path in paths.values():
            os.unlink(path)


def run_driver(path: str, url: str, mode: str, calls: int) -> dict[str, object]:
    """Run one driver script in a fresh process; returns its JSON line."""
    completed = subprocess.run(
        [sys.executable, path, url, mode, str(calls)],
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{mode} run of {path} failed:\n{completed.stderr[-3000:]}")
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def interleaved_rounds(
    paths: dict[str, str],
    url: str,
    mode: str,
    calls: int,
    rounds: int,
    step: Step,
    *,
    warm_up: bool = False,
    failures: dict[str, str] | None = None,
) -> dict[str, list[dict[str, object]]]:
    """``rounds`` interleaved rounds, one process per stack each. With ``warm_up``, every stack
    first runs once unmeasured (fills the bytecode and page caches for a cold path).

    With ``failures``, a stack other than asyncdynamo whose process fails is left out of the
    result (and of later rounds) and its reason recorded there; without it, a failure raises.
    """
    samples: dict[str, list[dict[str, object]]] = {stack: [] for stack in paths}

    def attempt(stack: str, measured_calls: int) -> dict[str, object] | None:
        try:
            return run_driver(paths[stack], url, mode, measured_calls)
        except RuntimeError as exc:
            if failures is None or stack == OURS:
                raise
            lines = [line for line in str(exc).splitlines() if line.strip()]
            failures[stack] = f"left out of the {mode} runs: its process failed ({lines[-1]})"
            del samples[stack]
            return None

    if warm_up:
        for stack in list(samples):
            attempt(stack, 1)
    step()
    for _ in range(rounds):
        for stack in list(samples):
            result = attempt(stack, calls)
            if result is not None:
                samples[stack].append(result)
        step()
    return samples


def _median(samples: list[dict[str, object]], *path: str) -> float:
    values = []
    for sample in samples:
        value: object = sample
        for key in path:
            value = value[key]  # type: ignore[index]
        values.append(float(str(value)))
    return statistics.median(values)


def run(ctx: SuiteContext) -> SuiteResult:
    """Cold path, warm CPU per operation and 64 in flight, for every installed peer."""
    stacks, notes = available(PEERS)
    url = ctx.database()
    seed(url)
    cold_rounds = 3 if ctx.quick else (11 if ctx.full else 5)
    warm_rounds = 1 if ctx.quick else 3
    calls = (50 if ctx.server_keep_alive else 20) if ctx.quick else (1_000 if ctx.full else 300)
    rows: list[Measurement] = []
    charts: list[Chart] = []
    failures: dict[str, str] = {}
    with driver_scripts(stacks) as paths:
        with ctx.case("cold path, fresh processes", total=cold_rounds + 1) as step:
            cold = interleaved_rounds(
                paths, url, "cold", 0, cold_rounds, step, warm_up=True, failures=failures
            )
        for key, group, unit in (
            ("wall_ms", "cold path: script start to first GetItem result", "ms"),
            ("cpu_ms", "cold path CPU", "ms"),
            ("peak_mb", "peak RSS of the cold process at its first GetItem result", "MB"),
        ):
            rows += [
                Measurement(group, stack, _median(cold[stack], key), unit, baseline=stack == OURS)
                for stack in cold
            ]
        with ctx.case("warm GetItem, PutItem, Query", total=warm_rounds + 1) as step:
            warm = interleaved_rounds(
                paths, url, "warm", calls, warm_rounds, step, failures=failures
            )
        operations = {"get": "GetItem", "put": "PutItem", "query": f"Query ({QUERY_ITEMS} items)"}
        for op, label in operations.items():
            rows += [
                Measurement(
                    f"client CPU per {label}",
                    stack,
                    _median(warm[stack], op, "cpu_us"),
                    "µs",
                    baseline=stack == OURS,
                )
                for stack in warm
            ]
        in_flight = [stack for stack in stacks if stack in ASYNC_STACKS]
        bursts = 3 if ctx.quick else 20
        with ctx.case("64 GetItems in flight", total=warm_rounds + 1) as step:
            burst = interleaved_rounds(
                {s: paths[s] for s in in_flight},
                url,
                "inflight",
                bursts,
                warm_rounds,
                step,
                failures=failures,
            )
        group = "client CPU per request, 64 GetItems in flight"
        rows += [
            Measurement(group, stack, _median(burst[stack], "cpu_us"), "µs", baseline=stack == OURS)
            for stack in burst
        ]
    series = {
        stack: {label: _median(warm[stack], op, "cpu_us") for op, label in operations.items()}
        for stack in warm
    }
    for stack in burst:
        series[stack]["64 in flight, per request"] = _median(burst[stack], "cpu_us")
    charts.append(
        Chart(
            "cpu_per_operation",
            "Client CPU per operation by stack (µs, lower is better)",
            ChartKind.BARS,
            "µs CPU per operation",
            series=series,
        )
    )
    charts.append(
        Chart(
            "get_latency",
            f"GetItem latency, {calls} sequential calls per stack ({ctx.server_name})",
            ChartKind.DISTRIBUTION,
            "ms",
            samples={
                stack: [x for s in warm[stack] for x in s["get"]["latency_ms"]]  # type: ignore[index]
                for stack in warm
            },
        )
    )
    notes += [f"{stack}: {reason}" for stack, reason in failures.items()]
    notes += [
        f"server: {ctx.server_name}",
        "asyncdynamo and PynamoDB return validated model instances; pydynox and aiodynamo "
        "return dicts; boto3 and aiobotocore get and return raw wire items (no model work)",
        "sync stacks (boto3, PynamoDB) are not in the 64-in-flight group",
    ]
    return SuiteResult(rows, notes, charts, details={"stacks": list(DRIVERS)})


register(
    "peers",
    "the same operations with pydynox, aiodynamo, PynamoDB, boto3, aiobotocore",
    run,
    order=40,
)
