"""What ``import asyncdynamo`` does, checked without timing it.

Measured as ``python -m bench cold_start`` measures it: in a fresh interpreter, after asyncio,
pydantic and a first pydantic model (which load pydantic's own machinery), ``import asyncdynamo``
must load only the modules listed here, and none of them may build a class with
``@dataclass`` (its code generation cost most of a millisecond per class; see
``asyncdynamo._record``). A module added to the import path, or a dataclass added to one, fails
here until it is made lazy or listed with a reason.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Which classes the modules listed in `loaded` built with @dataclass (its code generation costs
# most of a millisecond per class at import; see asyncdynamo._record).
_DATACLASS_REPORT = """built_by_dataclass = sorted(
    f"{name}.{cls.__qualname__}"
    for name in loaded
    for cls in vars(sys.modules[name]).values()
    if isinstance(cls, type)
    and cls.__module__ == name
    and "__dataclass_params__" in vars(cls)
)
"""

_CHILD = (
    """
import asyncio, json, sys
import pydantic
from pydantic import BaseModel

class _First(BaseModel):
    x: int

before = set(sys.modules)
import asyncdynamo
loaded = sorted(set(sys.modules) - before)
"""
    + _DATACLASS_REPORT
    + """print(json.dumps({"loaded": loaded, "dataclasses": built_by_dataclass}))
"""
)

# Every module `import asyncdynamo` loads (the LambdaDB handler's first GetItem needs each;
# tests/integration/test_cold_imports.py checks that).
IMPORTED = {
    "asyncdynamo",
    "asyncdynamo._client",
    "asyncdynamo._codec",
    "asyncdynamo._compat",  # each model's compatibility mode, read when its spec is built
    "asyncdynamo._config",
    "asyncdynamo._db",
    "asyncdynamo._db_many",  # DB's query/scan/batch/transaction methods (their builders load lazily)
    "asyncdynamo._declare",  # reads a model's annotations and markers into its spec
    "asyncdynamo._errors",  # the error classes, by layer (partner errors load on first use)
    "asyncdynamo._errors._base",
    "asyncdynamo._errors._outcome",
    "asyncdynamo._errors._service",
    "asyncdynamo._item",
    "asyncdynamo._lambda",
    "asyncdynamo._lambda_client",
    "asyncdynamo._lambda_env",
    "asyncdynamo._markers",
    "asyncdynamo._model",
    "asyncdynamo._ops",
    "asyncdynamo._outcome",  # send_write: imported where used would cost ~1 µs per write
    "asyncdynamo._pydantic_plugins",  # spares importlib.metadata when pydantic plugins are off
    "asyncdynamo._record",  # the base of settings and specs (frozen slotted records)
    "asyncdynamo._runner",
    "asyncdynamo._snapstart",
    "asyncdynamo._spec",
    "asyncdynamo._transport",
}


def import_asyncdynamo() -> dict[str, list[str]]:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, timeout=120, check=True
    )
    report: dict[str, list[str]] = json.loads(completed.stdout.strip().splitlines()[-1])
    return report


def test_import_loads_only_the_listed_modules_and_no_dataclass() -> None:
    report = import_asyncdynamo()
    loaded = set(report["loaded"])
    # Nothing else either: no stdlib module, no pydantic module loaded on demand (such as
    # pydantic.type_adapter, whose lazy import -X importtime charges to the importing module).
    assert loaded - IMPORTED == set(), "not needed by `import asyncdynamo`"
    assert IMPORTED - loaded == set(), "no longer imported: drop it from IMPORTED"
    assert report["dataclasses"] == [], "use asyncdynamo._record on the import path"


_WRITE_CHILD = (
    """
import asyncio, json, sys
from typing import Annotated
import pydantic
from pydantic import BaseModel

class _First(BaseModel):
    x: int

import asyncdynamo
before = set(sys.modules)
from asyncdynamo import DB, Config, Model, PartitionKey, Update, Version, attr

class Wallet(Model):
    __table__ = "wallets"
    wallet_id: Annotated[str, PartitionKey]
    status: str = "new"
    balance: int = 0
    version: Annotated[int, Version] = 0

class Instant:  # answers every call at once, as DynamoDB would a successful write
    def __init__(self):
        self.operations = []

    async def call(self, operation, params):
        self.operations.append(operation)
        if operation == "UpdateItem":
            stored = {"wallet_id": {"S": "w1"}, "status": {"S": "paid"}, "version": {"N": "2"}}
            return {"Attributes": stored}
        return {}

    async def aclose(self):
        pass

async def first_writes(transport):
    db = DB(Config(region="us-east-1"), transport=transport)
    await db.put(Wallet(wallet_id="w1"), condition=attr("status").not_exists())
    await db.update(
        Wallet, "w1", changes=Update().set("status", "paid").increment("balance", 5),
        condition=(attr("status") == "new") & (attr("balance") >= 0), expected_version=1,
    )
    async with db.transaction() as tx:
        tx.put(Wallet(wallet_id="w2"), condition=attr("wallet_id").not_exists())
        tx.update(Wallet, "w1", changes=Update().set("status", "settled"), expected_version=2)

transport = Instant()
asyncio.run(first_writes(transport))
loaded = sorted(set(sys.modules) - before)
"""
    + _DATACLASS_REPORT
    + """print(json.dumps({
    "operations": transport.operations, "loaded": loaded, "dataclasses": built_by_dataclass
}))
"""
)

# What a first conditional put, update and transaction load after `import asyncdynamo` (a
# payment does all three; tests/payments/test_cold_imports.py uses this list).
WRITE_PATH = {
    "asyncdynamo._batch",  # Key and item_identity, which _transact uses
    "asyncdynamo._expr",  # conditions and paths
    "asyncdynamo._placeholders",  # the #n/:v names and values of one request
    "asyncdynamo._transact",
    "asyncdynamo._update",
}


def test_first_writes_load_only_the_write_path_and_no_dataclass() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _WRITE_CHILD],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["operations"] == ["PutItem", "UpdateItem", "TransactWriteItems"]
    loaded = set(report["loaded"])
    # Nothing else: no stdlib module, and no Enum-only module (AttributeType loads on is_type).
    assert loaded - WRITE_PATH == set(), "not needed by a first write"
    assert WRITE_PATH - loaded == set(), "no longer loaded: drop it from WRITE_PATH"
    assert report["dataclasses"] == [], "use asyncdynamo._record on the write path"
