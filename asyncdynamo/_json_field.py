"""pydantic ``Json[...]`` fields: validated only from JSON text, so stored as that text."""

from __future__ import annotations

import types
import typing
from typing import Any, Union

from pydantic import Json
from pydantic.fields import FieldInfo

__all__ = ["json_adapter"]


_JSON: type[Any] = Json


def _holds_json(annotation: Any, metadata: list[Any]) -> bool:
    if any(meta is _JSON or isinstance(meta, _JSON) for meta in metadata):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _holds_json(inner, extra)
    if origin is Union or origin is types.UnionType:
        return any(_holds_json(arg, []) for arg in typing.get_args(annotation))
    return False


def json_adapter(info: FieldInfo) -> Any:
    """A TypeAdapter for a ``Json[...]`` field (stored as its JSON text), else ``None``."""
    if not _holds_json(info.annotation, list(info.metadata)):
        return None
    from pydantic import TypeAdapter

    annotation: Any = info.annotation
    if info.metadata:
        annotation = typing.Annotated[annotation, *info.metadata]
    return TypeAdapter(annotation)
