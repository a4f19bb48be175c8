"""Lambda cold start: from a handler module's first import to its first GetItem result.

Each sample is a fresh Python process (the interpreter's own start-up is not counted) against
the run's local server in *another* process, so the server's CPU never counts; the stacks are
interleaved round by round and each figure is a median. The path is broken
down into imports, model classes, DB init and the first request, for:

* ``asyncdynamo lean`` / ``asyncdynamo aiobotocore``: a handler module as users write it:
  ``new_lambda_optimized`` on the runner's loop, ``pre_register_models``, ``@lambda_handler``,
  ``db.with_lambda_timeout(context).get(...)`` returning the model.
* ``aiobotocore`` / ``boto3``: the same 12-field pydantic model read with the plain SDKs.

Also measured: asyncdynamo's own import time (``-X importtime``, on top of pydantic with a first
model built, and asyncio),
which modules the cold path imports that the first request does not need, and the warm
per-invocation CPU cost of the handler runner and the deadline view beyond the DynamoDB call.

Run ``python -m bench cold_start [--quick]``. Nothing here asserts a timing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from bench._core import Chart, ChartKind, Measurement, Step, SuiteContext, SuiteResult, register
from bench._servers import child_env, seed_table
from bench.transports import ITEM

__all__ = ["run"]

REGION = "us-east-1"
TABLE = "bench-cold-start"
PHASES = ("imports", "models", "init", "first_request", "total")
# Imported by the cold path although the first request (lean, http endpoint) needs none of them.
UNNEEDED = ("aiobotocore", "botocore", "boto3", "aiohttp", "opentelemetry", "payments")


_PRELUDE = """\
import time
_t0 = time.perf_counter()
import json, sys
URL, TABLE = sys.argv[1], sys.argv[2]
"""

_FIELDS = """\
    status: str
    amount: int
    currency: str
    merchant: str
    created_at: datetime
    version: int
    psp_ref: str
    card_hash: bytes
    tags: set[str]
    meta: dict[str, str]
    attempts: list[int]
"""

_REPORT = f"""\
_t4 = time.perf_counter()
UNNEEDED = {UNNEEDED!r}
_ssl_context = getattr(sys.modules.get("asyncdynamo._lean._http"), "_ssl_context", None)
print(json.dumps({{
    "imports": (_t1 - _t0) * 1000,
    "models": (_t2 - _t1) * 1000,
    "init": (_t3 - _t2) * 1000,
    "first_request": (_t4 - _t3) * 1000,
    "total": (_t4 - _t0) * 1000,
    "unneeded": [m for m in UNNEEDED if m in sys.modules]
    + (["ssl context"] if _ssl_context is not None else []),
}}))
"""

_ASYNCDYNAMO = (
    _PRELUDE
    + """\
TRANSPORT = sys.argv[3]
from datetime import datetime
from typing import Annotated
from asyncdynamo import (
    Config, LambdaConfig, Model, PartitionKey, TransportKind, lambda_handler,
    new_lambda_optimized, run_in_lambda_loop,
)
_t1 = time.perf_counter()

class Payment(Model):
    __table__ = TABLE
    pk: Annotated[str, PartitionKey]
"""
    + _FIELDS
    + """\

_t2 = time.perf_counter()
config = Config(region="us-east-1", endpoint_url=URL, transport=TransportKind(TRANSPORT))
db = run_in_lambda_loop(new_lambda_optimized(LambdaConfig(base_config=config)))
db.pre_register_models(Payment)

@lambda_handler
async def handler(event, context):
    return await db.with_lambda_timeout(context).get(Payment, event["pk"])

class Context:
    aws_request_id = "bench-1"
    def get_remaining_time_in_millis(self):
        return 30000

_t3 = time.perf_counter()
payment = handler({"pk": "order#1"}, Context())
assert payment is not None and payment.amount == 1250
"""
    + _REPORT
)

_PLAIN_MODEL = """\
from datetime import datetime
from pydantic import BaseModel
_t1 = time.perf_counter()

class Payment(BaseModel):
    pk: str
"""

# The plain SDK paths decode AttributeValues by hand, as a hand-rolled handler would.
_PLAIN_DECODER = """\

def plain(value):
    (kind, raw), = value.items()
    if kind == "M":
        return {k: plain(v) for k, v in raw.items()}
    if kind == "L":
        return [plain(v) for v in raw]
    return raw

"""

_AIOBOTOCORE = (
    _PRELUDE
    + """\
import asyncio
import aiobotocore.session
"""
    + _PLAIN_MODEL
    + _FIELDS
    + _PLAIN_DECODER
    + """\
_t2 = time.perf_counter()
loop = asyncio.new_event_loop()
session = aiobotocore.session.get_session()
client = loop.run_until_complete(
    session.create_client("dynamodb", region_name="us-east-1", endpoint_url=URL).__aenter__()
)
_t3 = time.perf_counter()
response = loop.run_until_complete(client.get_item(TableName=TABLE, Key={"pk": {"S": "order#1"}}))
payment = Payment.model_validate({k: plain(v) for k, v in response["Item"].items()})
assert payment.amount == 1250
"""
    + _REPORT
)

_BOTO3 = (
    _PRELUDE
    + """\
import boto3
"""
    + _PLAIN_MODEL
    + _FIELDS
    + _PLAIN_DECODER
    + """\
_t2 = time.perf_counter()
client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=URL)
_t3 = time.perf_counter()
response = client.get_item(TableName=TABLE, Key={"pk": {"S": "order#1"}})
payment = Payment.model_validate({k: plain(v) for k, v in response["Item"].items()})
assert payment.amount == 1250
"""
    + _REPORT
)

STACKS: dict[str, tuple[str, list[str]]] = {
    "asyncdynamo lean": (_ASYNCDYNAMO, ["lean"]),
    "asyncdynamo aiobotocore": (_ASYNCDYNAMO, ["aiobotocore"]),
    "aiobotocore": (_AIOBOTOCORE, []),
    "boto3": (_BOTO3, []),
}

_WARM = (
    """\
import asyncio, json, sys, time
from datetime import datetime
from typing import Annotated
from asyncdynamo import (
    Config, LambdaConfig, LambdaRunner, Model, PartitionKey, TransportKind, new_lambda_optimized,
)
URL, TABLE, CALLS = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Payment(Model):
    __table__ = TABLE
    pk: Annotated[str, PartitionKey]
"""
    + _FIELDS
    + """\

class Context:
    def __init__(self, n):
        self.aws_request_id = f"bench-{n}"
    def get_remaining_time_in_millis(self):
        return 30000

runner = LambdaRunner()
config = Config(region="us-east-1", endpoint_url=URL, transport=TransportKind.LEAN)
db = runner.run(new_lambda_optimized(LambdaConfig(base_config=config)))
db.pre_register_models(Payment)

async def noop(event, context):
    return None

async def via_view(event, context):
    return await db.with_lambda_timeout(context).get(Payment, "order#1")

async def direct_calls(n):
    for _ in range(n):
        await db.get(Payment, "order#1")

def cpu_us(action, n):
    start = time.process_time()
    action(n)
    return (time.process_time() - start) / n * 1e6

def invoke_many(handler):
    def run(n):
        for i in range(n):
            runner.invoke(handler, {}, Context(i))
    return run

runner.run(direct_calls(20))  # warm-up: connection, caches
results = {
    "runner, empty handler": cpu_us(invoke_many(noop), CALLS * 5),
    "with_lambda_timeout(context)": cpu_us(
        lambda n: [db.with_lambda_timeout(Context(i)) for i in range(n)], CALLS * 5),
    "GetItem awaited directly": cpu_us(lambda n: runner.run(direct_calls(n)), CALLS),
    "GetItem per invocation (runner + view)": cpu_us(invoke_many(via_view), CALLS),
}
results["runner + view overhead per invocation"] = (
    results["GetItem per invocation (runner + view)"] - results["GetItem awaited directly"]
)
print(json.dumps(results))
"""
)


def _child_env() -> dict[str, str]:
    # What the Lambda runtime sets, so the handler sees a 1,024 MB function.
    return child_env(
        AWS_REGION=REGION,
        AWS_LAMBDA_FUNCTION_NAME="bench-cold-start",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024",
        AWS_EXECUTION_ENV=f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
    )


def _run_json(args: Sequence[str]) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=_child_env(), check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark process failed:\n{completed.stderr[-3000:]}")
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _script(source: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    return handle.name


def _cold(url: str, repeats: int, step: Step) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Median ms per phase per stack, stacks interleaved round by round; and the unneeded
    modules the asyncdynamo lean cold path imported."""
    paths = {stack: _script(source) for stack, (source, _) in STACKS.items()}
    samples: dict[str, list[dict[str, object]]] = {stack: [] for stack in STACKS}
    try:
        argv = {stack: [paths[stack], url, TABLE, *extra] for stack, (_, extra) in STACKS.items()}
        first = {stack: _run_json(args) for stack, args in argv.items()}  # unmeasured warm-up
        step()
        for _ in range(repeats):
            for stack, args in argv.items():
                samples[stack].append(_run_json(args))
            step()
    finally:
        for path in paths.values():
            os.unlink(path)
    medians = {
        stack: {
            phase: statistics.median(float(str(sample[phase])) for sample in runs)
            for phase in PHASES
        }
        for stack, runs in samples.items()
    }
    unneeded = [str(name) for name in first["asyncdynamo lean"]["unneeded"]]  # type: ignore[attr-defined]
    return medians, unneeded


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
    path = _script(_WARM)
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
    """Cold path per phase (fresh processes, interleaved), import time, warm runner overhead."""
    repeats = 2 if ctx.quick else (15 if ctx.full else 7)
    calls = 50 if ctx.quick else 300
    url = ctx.database()
    seed_table(url, TABLE, {"pk": "HASH"}, [ITEM])
    with ctx.case("cold handler processes, interleaved", total=repeats + 1) as step:
        medians, unneeded = _cold(url, repeats, step)
    total = "cold path: handler import to first GetItem result"
    rows = [
        Measurement(total, stack, phases["total"], "ms", baseline=stack == "asyncdynamo lean")
        for stack, phases in medians.items()
    ]
    for phase in PHASES[:-1]:
        rows += [
            Measurement(f"of which {phase}", stack, phases[phase], "ms")
            for stack, phases in medians.items()
        ]
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
    ]
    return SuiteResult(rows + imports + warm, notes, [chart])


register("cold_start", "a Lambda handler's cold path, phase by phase", run, order=30)
