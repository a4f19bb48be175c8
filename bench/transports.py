"""Transport benchmarks: cold path, import time and warm client CPU per GetItem.

Every measurement runs in a fresh subprocess against moto's server, which itself runs in
another process so its CPU never counts against the client being measured. Ratios compare with
aiobotocore from the same run.

* ``cold_path``: from the first line of a fresh script to the first GetItem result (imports,
  session/client/transport creation, credentials, connect, sign, parse), median of N processes.
* ``import``: ``import asyncdynamo._lean`` in a fresh process, the lean package's own share of
  it (``-X importtime``, after ``import asyncdynamo``), and the SDKs' imports for comparison.
* ``warm_cpu``: ``time.process_time()`` per GetItem over many sequential calls after a warm-up,
  in the client process only.

Child processes compile to a private bytecode cache (``PYTHONPYCACHEPREFIX``) and each case runs
once unmeasured first, so no stack pays for compiling source: ship ``.pyc`` files to Lambda.

Run ``python -m bench.transports [--quick]`` for a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["run"]

REGION = "us-east-1"
TABLE = "bench-transports"
KEY = {"pk": {"S": "order#1"}}
_ROOT = Path(__file__).resolve().parent.parent
_PYCACHE = Path(tempfile.gettempdir()) / "asyncdynamo-bench-pycache"

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

async def main():
    transport = LeanTransport(Config(region="us-east-1", endpoint_url=URL))
    response = await transport.call("GetItem", {"TableName": TABLE, "Key": KEY})
    elapsed = time.perf_counter() - _t0
    await transport.aclose()
    assert "Item" in response
    return elapsed

print(json.dumps({"value": asyncio.run(main()) * 1000}))
"""

COLD_SCRIPTS = {
    "aiobotocore": _PRELUDE
    + """\
import asyncio
from aiobotocore.session import get_session

async def main():
    session = get_session()
    async with session.create_client("dynamodb", region_name="us-east-1", endpoint_url=URL) as c:
        response = await c.get_item(TableName=TABLE, Key=KEY)
        elapsed = time.perf_counter() - _t0
    assert "Item" in response
    return elapsed

print(json.dumps({"value": asyncio.run(main()) * 1000}))
""",
    "boto3": _PRELUDE
    + """\
import boto3

client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=URL)
response = client.get_item(TableName=TABLE, Key=KEY)
elapsed = time.perf_counter() - _t0
assert "Item" in response
print(json.dumps({"value": elapsed * 1000}))
""",
    "lean": _PRELUDE + _LEAN_COLD,
    # The transport's own cold path: ``asyncdynamo/__init__`` (models, pydantic) is skipped by
    # registering a bare package object, which shows what the package's eager imports cost.
    "lean, transport modules only": _PRELUDE
    + """import importlib.util, types
_spec = importlib.util.find_spec("asyncdynamo")
_package = types.ModuleType("asyncdynamo")
_package.__path__ = list(_spec.submodule_search_locations)
sys.modules["asyncdynamo"] = _package
"""
    + _LEAN_COLD,
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

IMPORT_STATEMENTS = {
    "aiobotocore.session": "import aiobotocore.session",
    "boto3": "import boto3",
    "asyncdynamo._lean (with asyncdynamo)": "import asyncdynamo._lean",
    "python -c pass": "pass",
}


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a measured child process: a private bytecode cache, the repo on the
    path, dummy credentials from the environment (no config files, no IMDS), plus ``extra``."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        **extra,
    )
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def moto_process(timeout: float = 60.0) -> Iterator[str]:
    """Runs moto's server in its own process on 127.0.0.1; yields its URL."""
    with moto_server(timeout) as (url, _):
        yield url


@contextmanager
def moto_server(timeout: float = 60.0) -> Iterator[tuple[str, int]]:
    """Runs moto's server in its own process on 127.0.0.1; yields its URL and process id (to
    read its CPU time)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto server exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start in time") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:  # moto stops slowly on SIGTERM
            process.kill()
            process.wait()


async def _seed(url: str) -> None:
    from asyncdynamo._config import Config, Credentials
    from asyncdynamo._lean import LeanTransport

    config = Config(region=REGION, endpoint_url=url, credentials=Credentials("testing", "testing"))
    async with LeanTransport(config) as transport:
        await transport.call(
            "CreateTable",
            {
                "TableName": TABLE,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        )
        await transport.call("PutItem", {"TableName": TABLE, "Item": ITEM})


def _run_script(source: str, args: Sequence[str]) -> float:
    value: float = run_child(source, args)["value"]
    return value


def run_child(source: str, args: Sequence[str]) -> dict[str, Any]:
    """Run ``source`` in a fresh measured child process; its last stdout line, as JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    try:
        completed = subprocess.run(
            [sys.executable, handle.name, *args],
            capture_output=True,
            text=True,
            env=child_env(),
            check=False,
        )
    finally:
        os.unlink(handle.name)
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark script failed:\n{completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _median_of(source: str, args: Sequence[str], repeats: int) -> float:
    _run_script(source, args)  # unmeasured: fills the bytecode cache and the OS page cache
    return statistics.median(_run_script(source, args) for _ in range(repeats))


def _import_ms(statement: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], env=child_env(), check=True)
    return (time.perf_counter() - start) * 1000


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


def _with_ratios(
    bench: str, unit: str, values: dict[str, float], baseline: str
) -> list[dict[str, object]]:
    base = values[baseline]
    return [
        {
            "bench": bench,
            "case": case,
            "value": round(value, 2),
            "unit": unit,
            "ratio": round(value / base, 3),
        }
        for case, value in values.items()
    ]


def run(quick: bool = False) -> list[dict[str, object]]:
    """Run every transport benchmark and return one dict per measurement.

    Args:
        quick: fewer processes and calls (a smoke run, e.g. in CI).

    Returns:
        Dicts with ``bench``, ``case``, ``value``, ``unit`` (``"ms"`` or ``"us"``) and
        ``ratio`` (to aiobotocore in the same run; to ``import aiobotocore.session`` for imports).
    """
    repeats = 3 if quick else 9
    calls = 50 if quick else 200
    results: list[dict[str, object]] = []
    with moto_process() as url:
        asyncio.run(_seed(url))
        args = [url, TABLE, json.dumps(KEY)]

        cold = {case: _median_of(source, args, repeats) for case, source in COLD_SCRIPTS.items()}
        results += _with_ratios("cold_path", "ms", cold, "aiobotocore")

        imports: dict[str, float] = {}
        for case, statement in IMPORT_STATEMENTS.items():
            _import_ms(statement)  # unmeasured warm-up
            imports[case] = statistics.median(_import_ms(statement) for _ in range(repeats))
        _lean_share_ms()
        imports["asyncdynamo._lean own share"] = statistics.median(
            _lean_share_ms() for _ in range(repeats)
        )
        results += _with_ratios("import", "ms", imports, "aiobotocore.session")

        warm = {
            case: _median_of(source, [*args, str(calls)], 1 if quick else 3)
            for case, source in WARM_SCRIPTS.items()
        }
        results += _with_ratios("warm_cpu", "us", warm, "aiobotocore")
    return results


def _table(results: Sequence[dict[str, object]]) -> str:
    lines = [f"{'bench':<10} {'case':<38} {'value':>10} {'unit':<4} {'ratio':>7}"]
    for row in results:
        lines.append(
            f"{row['bench']!s:<10} {row['case']!s:<38} {row['value']!s:>10} {row['unit']!s:<4} "
            f"{row['ratio']!s:>7}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line entry: print the results as a table (or JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer processes and calls")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    results = run(quick=options.quick)
    print(json.dumps(results, indent=2) if options.json else _table(results))


if __name__ == "__main__":
    main()
