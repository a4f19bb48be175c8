"""Lambda cold start: from a handler module's first import to its first GetItem result.

Each sample is a fresh Python process (the interpreter's own start-up is not counted) against
the run's local server in *another* process, so the server's CPU never counts; the stacks are
interleaved round by round and each figure is a median. The path is broken down into imports,
model classes, DB init and the first request (wall clock), and the whole path's CPU, for:

* ``asyncdynamo lean`` / ``asyncdynamo aiobotocore``: a handler module as users write it:
  ``new_lambda_optimized`` on the runner's loop, ``pre_register_models``, ``@lambda_handler``,
  ``db.with_lambda_timeout(context).get(...)`` returning the model; ``asyncdynamo lean,
  pydantic plugins off`` is the same with ``PYDANTIC_DISABLE_PLUGINS=__all__`` (as
  ``deploy/template.yaml`` and docs/lambda.md set it);
* ``pydynox (dicts)``: pydynox's own client, its item a dict (as the peers suite runs it);
  ``pydynox + pydantic model``: the same item validated into the same pydantic model (also with
  pydantic's plugins off);
* ``aiobotocore`` / ``boto3``: the same 12-field pydantic model read with the plain SDKs.

A stack whose package is not installed is left out with a note. When ``valgrind`` is on the PATH
(and not with ``--quick``), the instructions each cold path executes are also counted once per
stack with callgrind: unlike CPU time on a shared machine, that count is repeatable to well under
1%. Also measured: asyncdynamo's own import time (``-X importtime``, on top of pydantic with a
first model built, and asyncio), which modules the cold path imports that the first request does
not need, and the warm per-invocation CPU cost of the handler runner and the deadline view
beyond the DynamoDB call.

Run ``python -m bench cold_start [--quick]``. Nothing here asserts a timing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from bench import _instructions
from bench._cold_scripts import PHASES, STACKS, WARM
from bench._core import Chart, ChartKind, Measurement, Step, SuiteContext, SuiteResult, register
from bench._servers import child_env, seed_table
from bench.transports import ITEM

__all__ = ["run"]

REGION = "us-east-1"
TABLE = "bench-cold-start"
OURS = "asyncdynamo lean"


def _child_env(**extra: str) -> dict[str, str]:
    # What the Lambda runtime sets, so the handler sees a 1,024 MB function.
    env = child_env(
        AWS_REGION=REGION,
        AWS_LAMBDA_FUNCTION_NAME="bench-cold-start",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_EXECUTION_ENV=f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        **extra,
    )
    if "PYDANTIC_DISABLE_PLUGINS" not in extra:
        env.pop("PYDANTIC_DISABLE_PLUGINS", None)  # the default: pydantic looks for plugins
    return env


def _run_json(args: Sequence[str], extra_env: dict[str, str] | None = None) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=_child_env(**(extra_env or {})),
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark process failed:\n{completed.stderr[-3000:]}")
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _script(source: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    return handle.name


def _installed() -> tuple[dict[str, tuple[str, list[str], dict[str, str]]], list[str]]:
    """The stacks whose package is installed, and a note for each one left out."""
    stacks: dict[str, tuple[str, list[str], dict[str, str]]] = {}
    notes = []
    for stack, (source, extra, env, module) in STACKS.items():
        if importlib.util.find_spec(module) is None:
            notes.append(f"{stack}: left out ({module} is not installed)")
        else:
            stacks[stack] = (source, extra, env)
    return stacks, notes


def _cold(
    url: str, stacks: dict[str, tuple[str, list[str], dict[str, str]]], repeats: int, step: Step
) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Median ms per phase (and CPU) per stack, stacks interleaved round by round; and the
    unneeded modules the asyncdynamo lean cold path imported."""
    paths = {stack: _script(source) for stack, (source, _, _) in stacks.items()}
    samples: dict[str, list[dict[str, object]]] = {stack: [] for stack in stacks}
    try:
        argv = {
            stack: [paths[stack], url, TABLE, *extra] for stack, (_, extra, _) in stacks.items()
        }
        first = {stack: _run_json(argv[stack], env) for stack, (_, _, env) in stacks.items()}
        step()  # that round was unmeasured: it fills the bytecode and page caches
        for _ in range(repeats):
            for stack, (_, _, env) in stacks.items():
                samples[stack].append(_run_json(argv[stack], env))
            step()
    finally:
        for path in paths.values():
            os.unlink(path)
    medians = {
        stack: {
            phase: statistics.median(float(str(sample[phase])) for sample in runs)
            for phase in (*PHASES, "cpu")
        }
        for stack, runs in samples.items()
    }
    unneeded = [str(name) for name in first[OURS]["unneeded"]]  # type: ignore[attr-defined]
    return medians, unneeded


def _instruction_counts(
    url: str, stacks: dict[str, tuple[str, list[str], dict[str, str]]], step: Step
) -> list[Measurement]:
    """Instructions from each cold script's first line to its first GetItem result (callgrind,
    one run per stack: the count barely moves between runs)."""
    group = "cold path instructions (callgrind): handler import to first GetItem result"
    startup = _instructions.startup_instructions(_child_env())
    step()
    rows = []
    for stack, (source, extra, env) in stacks.items():
        path = _script(source)
        try:
            count = _instructions.instructions([path, url, TABLE, *extra], _child_env(**env))
        finally:
            os.unlink(path)
        rows.append(Measurement(group, stack, (count - startup) / 1e6, "M", baseline=stack == OURS))
        step()
    return rows


def _importtime(repeats: int) -> tuple[list[Measurement], str]:
    """asyncdynamo's import time on top of pydantic + asyncio, and its heaviest imports."""
    # A first model is built before: pydantic loads its schema machinery, importlib.metadata (its
    # plugin loader) and pydantic.types only then, for any model, and -X importtime would
    # otherwise charge them to the asyncdynamo module that declares the first one.
    statement = (
        "import asyncio, pydantic; from pydantic import BaseModel\n"
        "class _First(BaseModel):\n    x: int\n"
        "import asyncdynamo"
    )
    totals: list[float] = []
    own: list[float] = []
    heaviest: dict[str, float] = {}
    for _ in range(repeats + 1):
        completed = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", statement],
            capture_output=True,
            text=True,
            env=_child_env(),
            check=True,
        )
        subtree: list[tuple[str, int]] = []
        for line in completed.stderr.splitlines():
            fields = line.removeprefix("import time:").split("|")
            if len(fields) != 3 or not fields[0].strip().isdigit():
                continue
            name = fields[2].rstrip()[1:]  # one space after the bar; more spaces mean nesting
            if not name.startswith(" "):
                subtree_done = name == "asyncdynamo"
                if subtree_done:
                    totals.append(int(fields[1]) / 1000)
                    own.append(
                        sum(t for n, t in subtree if n.startswith("asyncdynamo")) / 1000
                        + int(fields[0]) / 1000
                    )
                    for n, t in subtree:
                        heaviest[n] = max(heaviest.get(n, 0.0), t / 1000)
                subtree = []
            else:
                subtree.append((name.strip(), int(fields[0].strip())))
    group = "import asyncdynamo (-X importtime)"
    rows = [
        Measurement(group, "on top of pydantic + asyncio", statistics.median(totals[1:]), "ms"),
        Measurement(group, "asyncdynamo.* modules' own time", statistics.median(own[1:]), "ms"),
    ]
    heaviest_text = ", ".join(
        f"{name} {ms:.1f} ms" for name, ms in sorted(heaviest.items(), key=lambda kv: -kv[1])[:5]
    )
    return rows, f"heaviest imports under asyncdynamo: {heaviest_text}"


def _warm(url: str, calls: int) -> list[Measurement]:
    path = _script(WARM)
    try:
        result = _run_json([path, url, TABLE, str(calls)])
    finally:
        os.unlink(path)
    # The runner's overhead is read from the ratio of the two GetItem rows: their difference
    # alone is smaller than the noise of either on a shared machine.
    return [
        Measurement(
            "client CPU per warm invocation",
            case,
            float(str(value)),
            "µs",
            baseline=case == "GetItem awaited directly",
        )
        for case, value in result.items()
        if case != "runner + view overhead per invocation"
    ]


def run(ctx: SuiteContext) -> SuiteResult:
    """Cold path per phase (fresh processes, interleaved), its CPU and (with valgrind) its
    instructions, import time, warm runner overhead."""
    repeats = 2 if ctx.quick else (15 if ctx.full else 7)
    calls = 50 if ctx.quick else 300
    url = ctx.database()
    seed_table(url, TABLE, {"pk": "HASH"}, [ITEM])
    stacks, left_out = _installed()
    with ctx.case("cold handler processes, interleaved", total=repeats + 1) as step:
        medians, unneeded = _cold(url, stacks, repeats, step)
    rows = [
        Measurement(group, stack, phases[key], "ms", baseline=stack == OURS)
        for key, group in (
            ("total", "cold path: handler import to first GetItem result"),
            ("cpu", "cold path CPU: handler import to first GetItem result"),
        )
        for stack, phases in medians.items()
    ]
    for phase in PHASES[:-1]:
        rows += [
            Measurement(f"of which {phase}", stack, phases[phase], "ms")
            for stack, phases in medians.items()
        ]
    if _instructions.available() and not ctx.quick:
        with ctx.case("instructions per cold path (callgrind)", total=len(stacks) + 1) as step:
            rows += _instruction_counts(url, stacks, step)
    with ctx.case("import time", total=1) as step:
        imports, heaviest = _importtime(repeats)
        step()
    with ctx.case("warm invocations", total=1) as step:
        warm = _warm(url, calls)
        step()
    chart = Chart(
        name="cold_start_breakdown",
        title="Cold path by phase, ms (median of fresh processes)",
        kind=ChartKind.STACKED,
        unit="ms",
        series={stack: {p: v[p] for p in PHASES[:-1]} for stack, v in medians.items()},
    )
    notes = [
        f"server: {ctx.server_name}",
        "modules the lean cold path imports but its first request does not need: "
        + (", ".join(unneeded) or "none"),
        heaviest,
        *left_out,
    ]
    return SuiteResult(rows + imports + warm, notes, [chart])


register("cold_start", "a Lambda handler's cold path, phase by phase", run, order=30)
