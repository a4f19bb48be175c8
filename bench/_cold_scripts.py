"""The child scripts of :mod:`bench.cold_start`: one fresh process each, one line of JSON out.

A cold script times its phases from its first line (``imports`` → ``models`` → ``init`` →
``first_request``; wall clock per phase and the process's CPU for the whole path) and reads the
same 12-field item by its partition key. ``_WARM`` measures the handler runner's per-invocation
CPU in one warm process.
"""

from __future__ import annotations

__all__ = ["PHASES", "PLUGINS_OFF", "STACKS", "UNNEEDED", "WARM"]

PHASES = ("imports", "models", "init", "first_request", "total")
# Imported by the cold path although the first request (lean, http endpoint) needs none of them.
UNNEEDED = ("aiobotocore", "botocore", "boto3", "aiohttp", "opentelemetry", "payments")

_PRELUDE = """\
import time
_t0, _c0 = time.perf_counter(), time.process_time()
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
_t4, _c4 = time.perf_counter(), time.process_time()
UNNEEDED = {UNNEEDED!r}
_ssl_context = getattr(sys.modules.get("asyncdynamo._lean._http"), "_ssl_context", None)
print(json.dumps({{
    "imports": (_t1 - _t0) * 1000,
    "models": (_t2 - _t1) * 1000,
    "init": (_t3 - _t2) * 1000,
    "first_request": (_t4 - _t3) * 1000,
    "total": (_t4 - _t0) * 1000,
    "cpu": (_c4 - _c0) * 1000,
    "unneeded": [m for m in UNNEEDED if m in sys.modules]
    + (["ssl context"] if _ssl_context is not None else []),
}}), flush=True)
# os._exit: pydynox's native runtime may abort during interpreter teardown, failing a finished run.
__import__("os")._exit(0)
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

_PYDYNOX_CLIENT = """\
_t2 = time.perf_counter()
loop = asyncio.new_event_loop()
client = DynamoDBClient(
    region="us-east-1", endpoint_url=URL, access_key="testing", secret_key="testing"
)
_t3 = time.perf_counter()
item = loop.run_until_complete(client.get_item(TABLE, {"pk": "order#1"}))
"""

# pydynox's own API (its items are dicts), as the peers suite runs it.
_PYDYNOX = (
    _PRELUDE
    + """\
import asyncio
from pydynox import DynamoDBClient
_t1 = time.perf_counter()
"""
    + _PYDYNOX_CLIENT
    + """\
assert item["amount"] == 1250
"""
    + _REPORT
)

# The same, decoded into the same pydantic model as every other stack.
_PYDYNOX_MODEL = (
    _PRELUDE
    + """\
import asyncio
from pydynox import DynamoDBClient
"""
    + _PLAIN_MODEL
    + _FIELDS
    + _PYDYNOX_CLIENT
    + """\
payment = Payment.model_validate(item)
assert payment.amount == 1250
"""
    + _REPORT
)

# (script, extra argv, extra environment, the module the stack needs)
PLUGINS_OFF = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}
STACKS: dict[str, tuple[str, list[str], dict[str, str], str]] = {
    "asyncdynamo lean": (_ASYNCDYNAMO, ["lean"], {}, "asyncdynamo"),
    "asyncdynamo lean, pydantic plugins off": (_ASYNCDYNAMO, ["lean"], PLUGINS_OFF, "asyncdynamo"),
    "asyncdynamo aiobotocore": (_ASYNCDYNAMO, ["aiobotocore"], {}, "aiobotocore"),
    "pydynox (dicts)": (_PYDYNOX, [], {}, "pydynox"),
    "pydynox + pydantic model": (_PYDYNOX_MODEL, [], {}, "pydynox"),
    "pydynox + pydantic model, plugins off": (_PYDYNOX_MODEL, [], PLUGINS_OFF, "pydynox"),
    "aiobotocore": (_AIOBOTOCORE, [], {}, "aiobotocore"),
    "boto3": (_BOTO3, [], {}, "boto3"),
}

WARM = (
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
