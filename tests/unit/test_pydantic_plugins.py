"""pydantic's plugin lookup is spared on a cold start only when every plugin is off.

Each case runs in a fresh interpreter: which loader pydantic uses is decided by the first
import, so it cannot be observed in this (already warm) process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[2]

# A model with the kinds of field a stored item has, and inputs that pass and fail validation.
_VALIDATE = """
import json, sys
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from pydantic import ValidationError
from asyncdynamo import Model, PartitionKey
from asyncdynamo._pydantic_plugins import LOADER

class Payment(Model):
    __table__ = "payments"
    pk: Annotated[str, PartitionKey]
    amount: int
    rate: Decimal
    created_at: datetime
    tags: set[str]
    meta: dict[str, str]
    version: int = 0

INPUTS = [
    {"pk": "p1", "amount": 5, "rate": "1.5", "created_at": "2026-11-30T12:00:00Z",
     "tags": ["a"], "meta": {"k": "v"}},
    {"pk": "p2", "amount": "7", "rate": 2, "created_at": 0, "tags": [], "meta": {}},
    {"pk": "p3", "amount": "x", "rate": "nan?", "created_at": "soon", "tags": 1, "meta": []},
    {"amount": 1},
]
results = []
for data in INPUTS:
    try:
        results.append(["ok", Payment.model_validate(data).model_dump(mode="json")])
    except ValidationError as exc:
        results.append(["error", exc.errors(include_url=False)])
print(json.dumps({
    "results": results,
    "validator": type(Payment.__pydantic_validator__).__name__,
    "stand_in": getattr(sys.modules.get(LOADER), "_asyncdynamo_stand_in", False),
    "metadata": "importlib.metadata" in sys.modules,
}, default=str))
"""

# A pydantic plugin installed as a distribution with an entry point, as pip would install one.
_PLUGIN = """
CALLS = []

class _Plugin:
    def new_schema_validator(self, schema, schema_type, schema_type_path, schema_kind, config,
                             plugin_settings):
        CALLS.append(schema_type_path.name)
        return None, None, None

plugin = _Plugin()
"""

_USES_PLUGIN = """
import json, os, sys
if os.environ.get("TURN_PLUGINS_ON_AFTER_IMPORT"):
    import asyncdynamo  # the stand-in is installed while every plugin is off...
    del os.environ["PYDANTIC_DISABLE_PLUGINS"]  # ...and pydantic must notice this
from pydantic import BaseModel
from asyncdynamo._pydantic_plugins import LOADER
import fake_pydantic_plugin

class Order(BaseModel):
    amount: int

print(json.dumps({
    "calls": fake_pydantic_plugin.CALLS,
    "stand_in": getattr(sys.modules.get(LOADER), "_asyncdynamo_stand_in", False),
}))
"""


def _run(script: str, *, plugins: str | None, path: Path | None = None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if plugins is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = plugins
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (_ROOT, path) if p is not None)
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.splitlines()[-1])
    return result


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Path:
    (tmp_path / "fake_pydantic_plugin.py").write_text(_PLUGIN)
    info = tmp_path / "fake_pydantic_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-pydantic-plugin\n")
    (info / "entry_points.txt").write_text("[pydantic]\nfake = fake_pydantic_plugin:plugin\n")
    return tmp_path


@pytest.mark.parametrize("spelling", ["__all__", "1", "true"])
def test_with_every_plugin_off_importlib_metadata_stays_off_the_cold_path(spelling: str) -> None:
    result = _run(_VALIDATE, plugins=spelling)
    assert result["stand_in"] is True
    assert result["metadata"] is False
    assert result["validator"] == "SchemaValidator"


def test_models_validate_the_same_with_the_stand_in_as_with_pydantics_loader() -> None:
    spared = _run(_VALIDATE, plugins="__all__")
    default = _run(_VALIDATE, plugins=None)
    assert default["stand_in"] is False
    assert spared["results"] == default["results"]
    assert [outcome for outcome, _ in spared["results"]] == ["ok", "ok", "error", "error"]


@pytest.mark.parametrize("plugins", [None, "", "some_other_plugin"])
def test_an_installed_plugin_is_used_unless_every_plugin_is_off(
    installed_plugin: Path, plugins: str | None
) -> None:
    result = _run(_USES_PLUGIN, plugins=plugins, path=installed_plugin)
    assert result["stand_in"] is False
    assert "Order" in result["calls"]


def test_an_installed_plugin_is_not_used_when_every_plugin_is_off(installed_plugin: Path) -> None:
    result = _run(_USES_PLUGIN, plugins="__all__", path=installed_plugin)
    assert result["calls"] == []


def test_plugins_turned_on_after_the_import_are_found_by_pydantics_own_loader(
    installed_plugin: Path,
) -> None:
    script = "import os\nos.environ['TURN_PLUGINS_ON_AFTER_IMPORT'] = '1'\n" + _USES_PLUGIN
    result = _run(script, plugins="__all__", path=installed_plugin)
    assert "Order" in result["calls"]
    assert result["stand_in"] is False  # the real loader took the stand-in's place


def test_any_other_name_of_the_loader_comes_from_pydantics_own_module() -> None:
    script = """
    import json, sys
    import asyncdynamo._model
    from asyncdynamo._pydantic_plugins import LOADER
    stand_in = sys.modules[LOADER]
    group = stand_in.PYDANTIC_ENTRY_POINT_GROUP
    real = sys.modules[LOADER]
    print(json.dumps({"was_stand_in": getattr(stand_in, "_asyncdynamo_stand_in", False),
                      "group": group, "now_real": real is not stand_in,
                      "package_attribute": sys.modules["pydantic.plugin"]._loader is real}))
    """
    result = _run(script, plugins="__all__")
    assert result == {
        "was_stand_in": True,
        "group": "pydantic",
        "now_real": True,
        "package_attribute": True,
    }


def test_nothing_is_replaced_when_pydantic_loaded_its_loader_first() -> None:
    script = """
    import json, sys
    import pydantic.plugin._loader as real
    import asyncdynamo._model
    from asyncdynamo._pydantic_plugins import skip_plugin_lookup_when_disabled, LOADER
    print(json.dumps({"kept": sys.modules[LOADER] is real,
                      "installed": skip_plugin_lookup_when_disabled()}))
    """
    assert _run(script, plugins="__all__") == {"kept": True, "installed": False}
