"""One child-process script per stack: the same GetItem, PutItem and Query on the same data.

A script is ``_PRELUDE + driver + _HARNESS``. A driver imports its stack and defines
``setup()``, ``get(state)``, ``put(state)`` and ``query(state)`` (coroutines, or plain functions
with ``SYNC = True``). The harness runs one mode, given on the command line:

* ``cold``: start of the script → imports → client → first GetItem result; wall and CPU ms,
  and the peak RSS so far.
* ``warm``: after a warm-up, CPU per call (``time.process_time``) and each call's latency.
* ``inflight``: bursts of 64 concurrent GetItems (async stacks only); CPU per request.
* ``memory``: peak RSS at the first result, then RSS growth over 1,000 more GetItems.

ORMs (asyncdynamo, PynamoDB) return model instances; the others return dicts. The raw clients
(boto3, aiobotocore) get items already in wire form and do no model work at all.
"""

from __future__ import annotations

__all__ = ["ASYNC_STACKS", "DRIVERS", "REQUIRES", "script"]

_PRELUDE = """\
import time
_t0, _c0 = time.perf_counter(), time.process_time()
import json, sys
URL, MODE, CALLS = sys.argv[1], sys.argv[2], int(sys.argv[3])
TABLE, GET_KEY, QUERY_PK = "bench-peers", {"pk": "pay#1", "sk": "0"}, "query#1"
"""

_HARNESS = """
SYNC = globals().get("SYNC", False)

def _done(result):
    # os._exit: native extensions' runtimes (pydynox's tokio) may abort during interpreter
    # teardown, which would turn a finished measurement into a failed process.
    print(json.dumps(result), flush=True)
    __import__("os")._exit(0)
if not SYNC:
    import asyncio
    _loop = asyncio.new_event_loop()

def _run(fn, *args):
    return fn(*args) if SYNC else _loop.run_until_complete(fn(*args))

def _amount(found):
    return found["amount"] if isinstance(found, dict) else found.amount

state = _run(setup)
first = _run(get, state)
assert int(_amount(first)) == 125050, first
def _status_mb(field):
    # VmHWM (peak) and VmRSS (now) belong to this program: ru_maxrss would report the parent's
    # peak, which a forked child inherits across exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")

if MODE == "cold":
    wall, cpu = (time.perf_counter() - _t0) * 1000, (time.process_time() - _c0) * 1000
    _done({"wall_ms": wall, "cpu_ms": cpu, "peak_mb": _status_mb("VmHWM")})

if MODE == "memory":
    peak = _status_mb("VmHWM")
    for _ in range(20):
        _run(get, state)
    before = _status_mb("VmRSS")
    def _many_sync(n):
        for _ in range(n):
            get(state)
    async def _many_async(n):
        for _ in range(n):
            await get(state)
    _run(_many_sync if SYNC else _many_async, CALLS)
    _done({"peak_mb": peak, "growth_mb": _status_mb("VmRSS") - before})

def _measure_sync(op):
    latencies = []
    start = time.process_time()
    for _ in range(CALLS):
        began = time.perf_counter()
        op(state)
        latencies.append((time.perf_counter() - began) * 1000)
    return {"cpu_us": (time.process_time() - start) / CALLS * 1e6, "latency_ms": latencies}

async def _measure_async(op):
    latencies = []
    start = time.process_time()
    for _ in range(CALLS):
        began = time.perf_counter()
        await op(state)
        latencies.append((time.perf_counter() - began) * 1000)
    return {"cpu_us": (time.process_time() - start) / CALLS * 1e6, "latency_ms": latencies}

WARMUP = min(20, max(5, CALLS // 5))

if MODE == "warm":
    for _ in range(WARMUP):
        _run(get, state); _run(put, state); _run(query, state)
    assert len(_run(query, state)) == 10
    measure = _measure_sync if SYNC else (lambda op: _loop.run_until_complete(_measure_async(op)))
    _done({op.__name__: measure(op) for op in (get, put, query)})

if MODE == "inflight":
    assert not SYNC, "a sync client has no requests in flight"
    async def _burst():
        await asyncio.gather(*(get(state) for _ in range(64)))
    async def _bursts(n):
        for _ in range(n):
            await _burst()
    _run(_bursts, 1)
    start = time.process_time()
    _run(_bursts, CALLS)
    _done({"cpu_us": (time.process_time() - start) / (CALLS * 64) * 1e6})
raise SystemExit(f"unknown mode {MODE}")
"""

_PUT_ITEM = """
def _put_item(pk):
    from bench._peer_data import ITEM
    return {**ITEM, "pk": pk}
"""

_OURS_MODEL = """
from typing import Annotated
from pydantic import BaseModel
from asyncdynamo import Config, Credentials, Model, PartitionKey, SortKey, TransportKind, attr

class Line(BaseModel):
    sku: str
    quantity: int
    unit_price: int

class Payment(Model):
    __table__ = TABLE
    pk: Annotated[str, PartitionKey]
    sk: Annotated[str, SortKey]
    merchant_id: str
    customer_id: str
    amount: int
    currency: str
    fee: int
    status: str
    method: str
    card_last4: str
    created_at: str
    updated_at: str
    attempts: int
    captured: bool
    refunded_amount: int
    tags: set[str]
    billing: dict[str, str]
    lines: list[Line]
    note: str
    version: int

CONFIG = Config(
    region="us-east-1", endpoint_url=URL, credentials=Credentials("testing", "testing"),
    transport=TransportKind.LEAN, max_pool_connections=64,
)
"""

_OURS = (
    _OURS_MODEL
    + _PUT_ITEM
    + """
from asyncdynamo import DB

async def setup():
    db = DB(CONFIG)
    await db.__aenter__()
    return {"db": db, "item": Payment(**_put_item("put#asyncdynamo"))}

async def get(state):
    return await state["db"].get(Payment, "pay#1", "0")

async def put(state):
    return await state["db"].put(state["item"], overwrite=True)

async def query(state):
    return await state["db"].query(Payment).where(attr("pk") == QUERY_PK).all()
"""
)

# The same model behind a Lambda handler: LambdaDB, the container's loop, a deadline per call.
_OURS_LAMBDA = (
    _OURS_MODEL
    + """
from asyncdynamo import LambdaConfig, lambda_handler, new_lambda_optimized, run_in_lambda_loop
SYNC = True

class _Context:
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 30000

def setup():
    db = run_in_lambda_loop(new_lambda_optimized(LambdaConfig(base_config=CONFIG)))
    db.pre_register_models(Payment)

    @lambda_handler
    async def handler(event, context):
        return await db.with_lambda_timeout(context).get(Payment, event["pk"], event["sk"])

    return handler

def get(handler):
    return handler({"pk": "pay#1", "sk": "0"}, _Context())

put = query = None
"""
)

_BOTO3 = """
import boto3
SYNC = True

def setup():
    from bench._peer_data import wire
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=URL)
    return {"client": client, "item": wire(_put_item("put#boto3"))["M"]}

def get(state):
    item = state["client"].get_item(TableName=TABLE, Key={k: {"S": v} for k, v in GET_KEY.items()})
    return {"amount": item["Item"]["amount"]["N"]}

def put(state):
    return state["client"].put_item(TableName=TABLE, Item=state["item"])

def query(state):
    return state["client"].query(
        TableName=TABLE, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": QUERY_PK}},
    )["Items"]
"""

_AIOBOTOCORE = """
import aiobotocore.session
from aiobotocore.config import AioConfig

async def setup():
    from bench._peer_data import wire
    session = aiobotocore.session.get_session()
    client = await session.create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=URL,
        config=AioConfig(max_pool_connections=64),
    ).__aenter__()
    return {"client": client, "item": wire(_put_item("put#aiobotocore"))["M"]}

async def get(state):
    key = {k: {"S": v} for k, v in GET_KEY.items()}
    item = await state["client"].get_item(TableName=TABLE, Key=key)
    return {"amount": item["Item"]["amount"]["N"]}

async def put(state):
    return await state["client"].put_item(TableName=TABLE, Item=state["item"])

async def query(state):
    response = await state["client"].query(
        TableName=TABLE, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": QUERY_PK}},
    )
    return response["Items"]
"""

_AIODYNAMO = """
import aiohttp
from yarl import URL as _URL
from aiodynamo.client import Client
from aiodynamo.credentials import Key, StaticCredentials
from aiodynamo.expressions import HashKey
from aiodynamo.http.aiohttp import AIOHTTP

async def setup():
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
    client = Client(
        AIOHTTP(session), StaticCredentials(Key("testing", "testing")), "us-east-1",
        endpoint=_URL(URL),
    )
    return {"table": client.table(TABLE), "item": _put_item("put#aiodynamo")}

async def get(state):
    return await state["table"].get_item(GET_KEY)

async def put(state):
    return await state["table"].put_item(state["item"])

async def query(state):
    return [item async for item in state["table"].query(HashKey("pk", QUERY_PK))]
"""

_PYNAMODB = """
from pynamodb.attributes import (
    BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.models import Model
SYNC = True

class Line(MapAttribute):
    sku = UnicodeAttribute()
    quantity = NumberAttribute()
    unit_price = NumberAttribute()

class Payment(Model):
    class Meta:
        table_name = TABLE
        host = URL
        region = "us-east-1"
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    fee = NumberAttribute()
    status = UnicodeAttribute()
    method = UnicodeAttribute()
    card_last4 = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    attempts = NumberAttribute()
    captured = BooleanAttribute()
    refunded_amount = NumberAttribute()
    tags = UnicodeSetAttribute()
    billing = MapAttribute()
    lines = ListAttribute(of=Line)
    note = UnicodeAttribute()
    version = NumberAttribute()

def setup():
    item = _put_item("put#pynamodb")
    item["lines"] = [Line(**line) for line in item["lines"]]
    return Payment(**item)

def get(state):
    return Payment.get("pay#1", "0")

def put(state):
    return state.save()

def query(state):
    return list(Payment.query(QUERY_PK))
"""

_PYDYNOX = """
from pydynox import DynamoDBClient

async def setup():
    client = DynamoDBClient(
        region="us-east-1", endpoint_url=URL, access_key="testing", secret_key="testing",
    )
    return {"client": client, "item": _put_item("put#pydynox")}

async def get(state):
    return await state["client"].get_item(TABLE, GET_KEY)

async def put(state):
    return await state["client"].put_item(TABLE, state["item"])

async def query(state):
    result = state["client"].query(
        TABLE, "#pk = :pk", expression_attribute_names={"#pk": "pk"},
        expression_attribute_values={":pk": QUERY_PK},
    )
    return [item async for item in result]
"""

DRIVERS: dict[str, str] = {
    "asyncdynamo": _OURS,
    "pydynox": _PYDYNOX,
    "aiodynamo": _AIODYNAMO,
    "PynamoDB": _PYNAMODB,
    "boto3": _BOTO3,
    "aiobotocore": _AIOBOTOCORE,
    "asyncdynamo LambdaDB handler": _OURS_LAMBDA,
}
# The module each stack needs; a stack whose module is missing is skipped with a note.
REQUIRES = {
    "asyncdynamo": "pydantic",
    "pydynox": "pydynox",
    "aiodynamo": "aiodynamo",
    "PynamoDB": "pynamodb",
    "boto3": "boto3",
    "aiobotocore": "aiobotocore",
    "asyncdynamo LambdaDB handler": "pydantic",
}
ASYNC_STACKS = ("asyncdynamo", "pydynox", "aiodynamo", "aiobotocore")


def script(stack: str) -> str:
    """The whole child script for ``stack``."""
    return _PRELUDE + _PUT_ITEM + DRIVERS[stack] + _HARNESS
