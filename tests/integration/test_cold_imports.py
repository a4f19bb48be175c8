"""What a cold Lambda handler imports before its first GetItem answers.

The handler runs in a fresh interpreter, as Lambda runs it; the modules imported from the
handler's first import to the end of its first invocation are read from ``sys.modules`` (``-X
importtime`` misses modules loaded through ``importlib.import_module``, as a package's lazy
``__getattr__`` loads them; it only gives each listed module's import self time for the
messages). Everything listed here must be something that first request uses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from asyncdynamo import Config, TransportKind
from asyncdynamo.lambda_testing import lambda_environ
from tests.integration.lambda_handlers.cold_models import Payment
from tests.unit.test_import_cost import IMPORTED

pytestmark = pytest.mark.integration

_MARK = "@@cold-handler-start@@"
_CHILD = f"""
import json, sys
class Context:  # not asyncdynamo.lambda_testing's: its import would count
    aws_request_id = "cold-1"

    def get_remaining_time_in_millis(self):
        return 10_000

print({_MARK!r}, file=sys.stderr, flush=True)
before = set(sys.modules)
from tests.integration.lambda_handlers.get_handler import handler
result = handler({{"payment_id": "p1"}}, Context())
http = sys.modules["asyncdynamo._lean._http"]
print(json.dumps({{
    "result": result,
    "ssl_context": http._ssl_context is not None,
    "loaded": sorted(set(sys.modules) - before),
    "dataclasses": sorted(  # @dataclass costs most of a millisecond per class at import
        f"{{name}}.{{cls.__qualname__}}"
        for name, module in list(sys.modules.items())
        if name.startswith("asyncdynamo")
        for cls in vars(module).values()
        if isinstance(cls, type) and cls.__module__ == name and "__dataclass_params__" in vars(cls)
    ),
}}))
"""
_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")

# Third-party packages a GetItem through a pydantic model needs.
THIRD_PARTY = {
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_extensions",
    "typing_inspection",
}
# asyncdynamo modules a GetItem through LambdaDB and the lean transport needs: what
# `import asyncdynamo` loads, and the lean transport.
OURS = IMPORTED | {
    "asyncdynamo._lean",
    "asyncdynamo._lean._credentials",
    "asyncdynamo._lean._endpoints",
    "asyncdynamo._lean._http",
    "asyncdynamo._lean._protocols",
    "asyncdynamo._lean._sigv4",
    "asyncdynamo._lean._transport",
    "asyncdynamo._lean._wire",  # HTTP/1.x status line, headers and chunked bodies
}
# Never on this path, whatever else changes.
NEVER = {
    "aiobotocore",
    "aiohttp",
    "boto3",
    "botocore",
    "cryptography",
    "opentelemetry",
    "payments",
    "yaml",
}


@dataclass(frozen=True)
class ColdRun:
    result: dict[str, object]
    ssl_context: bool
    dataclasses: list[str]  # asyncdynamo classes built by @dataclass
    modules: dict[str, int]  # module -> import self time (µs), in import order


def run_cold_handler(config: Config) -> ColdRun:
    assert config.endpoint_url is not None
    env = {
        **os.environ,
        **lambda_environ(),
        "COLD_ENDPOINT": config.endpoint_url,
        "COLD_TABLE_PREFIX": config.table_prefix,
        "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p),
    }
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _CHILD],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    after_start = completed.stderr.partition(_MARK)[2]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    self_time = {m.group(2): int(m.group(1)) for m in _LINE.finditer(after_start)}
    modules = {name: self_time.get(name, 0) for name in report["loaded"]}
    return ColdRun(report["result"], report["ssl_context"], report["dataclasses"], modules)


def top_level(module: str) -> str:
    return module.partition(".")[0]


def is_stdlib(top: str) -> bool:
    # sysconfig's per-platform data module is stdlib but not in stdlib_module_names.
    return top in sys.stdlib_module_names or top.startswith("_sysconfigdata_")


@pytest.fixture
async def payments_table(
    make_tables: Callable[..., Awaitable[list[str]]], dynamo_config: Config
) -> Config:
    if dynamo_config.transport is not TransportKind.LEAN:
        pytest.skip("the handler runs on the lean transport; one run is enough")
    if dynamo_config.endpoint_url is None or not dynamo_config.endpoint_url.startswith("http://"):
        pytest.skip("needs a plain-http endpoint")
    await make_tables(Payment)
    return dynamo_config


def test_a_cold_get_handler_imports_only_what_its_first_request_uses(
    payments_table: Config,
) -> None:
    run = run_cold_handler(payments_table)
    assert run.result == {"amount": None}
    loaded = set(run.modules)
    tops = {top_level(m) for m in loaded}
    assert not tops & NEVER, sorted(tops & NEVER)
    third_party = {t for t in tops if not is_stdlib(t) and t != "tests"}
    assert third_party - {"asyncdynamo"} <= THIRD_PARTY, sorted(third_party - THIRD_PARTY)
    ours = {m for m in loaded if top_level(m) == "asyncdynamo"}
    extra = {m: f"{run.modules[m]} µs" for m in sorted(ours - OURS)}
    assert not extra, f"not needed by a GetItem (import self time): {extra}"
    assert run.dataclasses == [], "use asyncdynamo._record on the cold path"
    # asyncio imports the ssl module itself; an http endpoint must not build a context (which
    # reads the CA bundle).
    assert not run.ssl_context
