"""Every public name is exported, importable, and listed once in a sorted __all__."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["asyncdynamo", "payments"])
def test_all_names_are_unique_and_importable(package: str) -> None:
    module = importlib.import_module(package)
    names = list(getattr(module, "__all__", []))
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(module, name), f"{package}.{name} is listed but missing"


def test_public_classes_and_functions_are_exported() -> None:
    module = importlib.import_module("asyncdynamo")
    exported = set(module.__all__)
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, type(module)):
            continue
        assert name in exported, f"asyncdynamo.{name} is public but not in __all__"
