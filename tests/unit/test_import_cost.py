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

_CHILD = """
import asyncio, json, sys
import pydantic
from pydantic import BaseModel

class _First(BaseModel):
    x: int

before = set(sys.modules)
import asyncdynamo
loaded = sorted(set(sys.modules) - before)
built_by_dataclass = sorted(
    f"{name}.{cls.__qualname__}"
    for name in loaded
    for cls in vars(sys.modules[name]).values()
    if isinstance(cls, type)
    and cls.__module__ == name
    and "__dataclass_params__" in vars(cls)
)
print(json.dumps({"loaded": loaded, "dataclasses": built_by_dataclass}))
"""

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
