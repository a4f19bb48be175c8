"""pydantic's plugin lookup without ``importlib.metadata`` when the environment turns plugins off.

pydantic looks for plugins when it builds its first validator: ``pydantic.plugin._loader``
imports ``importlib.metadata`` (with ``email``, ``zipfile`` and ``csv``) as it loads, which costs
a cold start ≈ 15 ms of CPU even when ``PYDANTIC_DISABLE_PLUGINS`` tells pydantic to load no
plugin at all. When that variable says so (``__all__``, ``1`` or ``true``: pydantic's own
spellings) as asyncdynamo is imported, :func:`skip_plugin_lookup_when_disabled` puts a stand-in
for that module in ``sys.modules`` before pydantic first needs it.

The stand-in answers ``get_plugins()`` as pydantic's loader would: no plugins while the variable
turns them all off. The moment it does not (the variable was changed, or names only some
plugins), or anything else of the module is asked for, the real loader is imported, takes the
stand-in's place in ``sys.modules`` and answers; nothing pydantic does differs.

This is the one place asyncdynamo touches a private pydantic module, for ≈ 10% of a cold
Lambda handler's CPU. ``tests/unit/test_pydantic_plugins.py`` proves that models built with the
stand-in validate the same, that installed plugins are still found whenever the variable allows
them, and that the stand-in keeps ``importlib.metadata`` off the cold path; where pydantic has
already loaded its loader, or lays it out differently, nothing is replaced.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from types import ModuleType
from typing import Any

__all__ = ["LOADER", "skip_plugin_lookup_when_disabled"]

LOADER = "pydantic.plugin._loader"
_PACKAGE, _, _SUBMODULE = LOADER.rpartition(".")
# pydantic.plugin._loader.get_plugins: these values turn every plugin off.
_ALL_OFF = frozenset({"__all__", "1", "true"})


def _all_plugins_off() -> bool:
    return os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _ALL_OFF


def _real_loader() -> ModuleType:
    """pydantic's own loader, imported in the stand-in's place the first time it is needed."""
    if getattr(sys.modules.get(LOADER), "_asyncdynamo_stand_in", False):
        del sys.modules[LOADER]
    return importlib.import_module(LOADER)


def _get_plugins() -> Iterable[Any]:
    if _all_plugins_off():
        return ()
    plugins: Iterable[Any] = _real_loader().get_plugins()
    return plugins


def _anything_else(name: str) -> Any:
    # Module-level __getattr__ (PEP 562): any other name comes from the real loader.
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    return getattr(_real_loader(), name)


def skip_plugin_lookup_when_disabled() -> bool:
    """Install the stand-in loader if every plugin is off and pydantic has not loaded its own.

    Returns whether the stand-in is (now) in place.
    """
    current = sys.modules.get(LOADER)
    if current is not None:
        return bool(getattr(current, "_asyncdynamo_stand_in", False))
    package = sys.modules.get(_PACKAGE)
    if not _all_plugins_off() or package is None:
        return False
    stand_in = ModuleType(LOADER, "asyncdynamo's stand-in: no pydantic plugins are enabled")
    stand_in.__dict__.update(
        _asyncdynamo_stand_in=True,
        get_plugins=_get_plugins,
        __getattr__=_anything_else,
    )
    sys.modules[LOADER] = stand_in
    setattr(package, _SUBMODULE, stand_in)
    return True
