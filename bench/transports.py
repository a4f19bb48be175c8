"""Transport benchmarks: cold path, import time and warm client CPU per GetItem.

Every measurement runs in a fresh subprocess against the run's local server (dynalite when
node is available, else moto), which runs in another process so its CPU never counts against
the client. Stacks are interleaved round by round; ratios compare with the lean transport.

* ``cold_path``: from the first line of a fresh script to the first GetItem result (imports,
  session/client/transport creation, credentials, connect, sign, parse), median of N processes.
* ``imports``: the imports of each cold path, timed in the same processes (so never larger than
  the cold path containing them), and the lean package's own share (``-X importtime``, after
  ``import asyncdynamo``).
* ``warm_cpu``: ``time.process_time()`` per GetItem over many sequential calls after a warm-up,
  in the client process only.

Child processes compile to a private bytecode cache (``PYTHONPYCACHEPREFIX``) and each case runs
once unmeasured first, so no stack pays for compiling source: ship ``.pyc`` files to Lambda.

Run ``python -m bench transports [--quick]``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence

from bench._core import Measurement, Step, SuiteContext, SuiteResult, register
from bench._servers import child_env, moto_process, run_child, seed_table

__all__ = ["ITEM", "child_env", "moto_process", "run"]

REGION = "us-east-1"
TABLE = "bench-transports"
KEY = {"pk": {"S": "order#1"}}

# A 12-attribute item, like a small payment record.
ITEM = {
    **KEY,
    "status": {"S": "captured"},
    "amount": {"N": "1250"},
    "currency": {"S": "EUR"},
    "merchant": {"S": "m-123"},
    "created_at": {"S": "2026-11-25T03:00:00Z"},
    "version": {"N": "3"},
    "psp_ref": {"S": "psp-abc"},
    "card_hash": {"B": b"\x01\x02\x03\x04"},
    "tags": {"SS": ["a", "b"]},
    "meta": {"M": {"ip": {"S": "10.0.0.1"}}},
    "attempts": {"L": [{"N": "1"}, {"N": "2"}]},
}

_PRELUDE = """\
import time
_t0 = time.perf_counter()
import json, sys
URL, TABLE, KEY = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
"""

_LEAN_COLD = """\
import asyncio
from asyncdynamo._config import Config
from asyncdynamo._lean import LeanTransport
_imported = time.perf_counter()

async def main():
    transport = LeanTransport(Config(region="us-east-1", endpoint_url=URL))
    response = await transport.call("GetItem", {"TableName": TABLE, "Key": KEY})
    elapsed = time.perf_counter() - _t0
    await transport.aclose()
    assert "Item" in response
    return elapsed

elapsed = asyncio.run(main())
"""

_REPORT_COLD = """\
print(json.dumps({"value": elapsed * 1000, "imports": (_imported - _t0) * 1000}))
"""

COLD_SCRIPTS = {
    "aiobotocore": _PRELUDE
    + """\
import asyncio
from aiobotocore.session import get_session
_imported = time.perf_counter()

async def main():
    session = get_session()
    async with session.create_client("dynamodb", region_name="us-east-1", endpoint_url=URL) as c:
        response = await c.get_item(TableName=TABLE, Key=KEY)
        elapsed = time.perf_counter() - _t0
    assert "Item" in response
    return elapsed

elapsed = asyncio.run(main())
"""
    + _REPORT_COLD,
    "boto3": _PRELUDE
    + """\
import boto3
_imported = time.perf_counter()

client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=URL)
response = client.get_item(TableName=TABLE, Key=KEY)
elapsed = time.perf_counter() - _t0
assert "Item" in response
"""
    + _REPORT_COLD,
    "lean": _PRELUDE + _LEAN_COLD + _REPORT_COLD,
    # The transport's own cold path: ``asyncdynamo/__init__`` (models, pydantic) is skipped by
    # registering a bare package object, which shows what the package's eager imports cost.
    "lean, transport modules only": _PRELUDE
    + """import importlib.util, types
_spec = importlib.util.find_spec("asyncdynamo")
_package = types.ModuleType("asyncdynamo")
_package.__path__ = list(_spec.submodule_search_locations)
sys.modules["asyncdynamo"] = _package
"""
    + _LEAN_COLD
    + _REPORT_COLD,
}

_WARM_PRELUDE = """\
import json, sys, time
URL, TABLE, KEY, CALLS = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
WARMUP = 20
"""

WARM_SCRIPTS = {
    "aiobotocore": _WARM_PRELUDE
    + """\
import asyncio
from aiobotocore.session import get_session

async def main():
    session = get_session()
    async with session.create_client("dynamodb", region_name="us-east-1", endpoint_url=URL) as c:
        for _ in range(WARMUP):
            await c.get_item(TableName=TABLE, Key=KEY)
        start = time.process_time()
        for _ in range(CALLS):
            await c.get_item(TableName=TABLE, Key=KEY)
        return time.process_time() - start

print(json.dumps({"value": asyncio.run(main()) / CALLS * 1e6}))
""",
    "boto3": _WARM_PRELUDE
    + """\
import boto3

client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=URL)
for _ in range(WARMUP):
    client.get_item(TableName=TABLE, Key=KEY)
start = time.process_time()
for _ in range(CALLS):
    client.get_item(TableName=TABLE, Key=KEY)
print(json.dumps({"value": (time.process_time() - start) / CALLS * 1e6}))
""",
    "lean": _WARM_PRELUDE
    + """\
import asyncio
from asyncdynamo._config import Config
from asyncdynamo._lean import LeanTransport

async def main():
    params = {"TableName": TABLE, "Key": KEY}
    async with LeanTransport(Config(region="us-east-1", endpoint_url=URL)) as transport:
        for _ in range(WARMUP):
            await transport.call("GetItem", params)
        start = time.process_time()
        for _ in range(CALLS):
            await transport.call("GetItem", params)
        return time.process_time() - start

print(json.dumps({"value": asyncio.run(main()) / CALLS * 1e6}))
""",
}


def _run_script(source: str, args: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = run_child(source, args)
    return values


def _lean_share_ms() -> float:
    """The lean package's own import time, once ``asyncdynamo`` itself is imported."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import asyncdynamo; import asyncdynamo._lean"],
        capture_output=True,
        text=True,
        env=child_env(),
        check=True,
    )
    for line in completed.stderr.splitlines():
        fields = [field.strip() for field in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == "asyncdynamo._lean":
            return int(fields[1]) / 1000
    raise RuntimeError("asyncdynamo._lean not found in -X importtime output")


def run(ctx: SuiteContext) -> SuiteResult:
    """Cold path, import time and warm CPU per GetItem of the transports, in fresh processes."""
    repeats = 2 if ctx.quick else (15 if ctx.full else 7)
    calls = 50 if ctx.quick else (2_000 if ctx.full else 500)
    url = ctx.database()
    seed_table(url, TABLE, {"pk": "HASH"}, [ITEM])
    args = [url, TABLE, json.dumps(KEY)]
    rows: list[Measurement] = []
    cold_group = "cold path: script start to first GetItem result"
    with ctx.case("cold path, interleaved fresh processes", total=repeats + 1) as step:
        cold = _interleaved(
            {case: (src, args) for case, src in COLD_SCRIPTS.items()}, repeats, step
        )
    rows += [
        Measurement(cold_group, case, _median(v, "value"), "ms", baseline=case == "lean")
        for case, v in cold.items()
    ]
    # Measured in the same processes, so an import never exceeds the cold path containing it.
    rows += [
        Measurement("of which imports", case, _median(v, "imports"), "ms", baseline=case == "lean")
        for case, v in cold.items()
    ]
    with ctx.case("asyncdynamo._lean's own import time", total=1) as step:
        share = [_lean_share_ms() for _ in range(repeats)]
        step()
    rows.append(
        Measurement(
            "asyncdynamo._lean's own import time (-X importtime)",
            "asyncdynamo._lean",
            statistics.median(share),
            "ms",
        )
    )
    with ctx.case("warm CPU per GetItem", total=(1 if ctx.quick else 3) + 1) as step:
        warm = _interleaved(
            {case: (src, [*args, str(calls)]) for case, src in WARM_SCRIPTS.items()},
            1 if ctx.quick else 3,
            step,
        )
    rows += [
        Measurement(
            "client CPU per GetItem, transport only (no model)",
            case,
            _median(v, "value"),
            "µs",
            baseline=case == "lean",
        )
        for case, v in warm.items()
    ]
    notes = [f"server: {ctx.server_name}"]
    return SuiteResult(rows, notes)


def _interleaved(
    scripts: dict[str, tuple[str, list[str]]], repeats: int, step: Step
) -> dict[str, list[dict[str, float]]]:
    """Runs every script once unmeasured, then ``repeats`` rounds of one run each."""
    for source, args in scripts.values():
        _run_script(source, args)  # fills the bytecode cache and the OS page cache
    step()
    samples: dict[str, list[dict[str, float]]] = {case: [] for case in scripts}
    for _ in range(repeats):
        for case, (source, args) in scripts.items():
            samples[case].append(_run_script(source, args))
        step()
    return samples


def _median(samples: list[dict[str, float]], key: str) -> float:
    return statistics.median(sample[key] for sample in samples)


register("transports", "the lean transport against aiobotocore and boto3", run, order=20)
