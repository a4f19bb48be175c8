"""Parse a DMS document: YAML restricted to its JSON-compatible subset (PyYAML, lazily imported).

DMS asks for YAML 1.2's JSON-compatible subset: no anchors or aliases, no custom tags, no
implicit timestamps, and only ``true``/``false`` as booleans (PyYAML's YAML 1.1 defaults would
turn ``on``, ``no`` or ``2024-01-01`` into booleans and dates).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from ._errors import DmsSchemaError

__all__ = ["parse_document"]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@cache
def _loader() -> type[Any]:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise DmsSchemaError(
            "loading DMS YAML needs PyYAML: pip install 'asyncdynamo-lambda[dms]'"
        ) from exc

    class Loader(yaml.SafeLoader):  # type: ignore[misc]
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise DmsSchemaError(
                    f"line {event.start_mark.line + 1}: anchors and aliases are not allowed"
                )
            return super().compose_node(parent, index)

    resolvers: dict[Any, list[Any]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries if tag not in (_BOOL_TAG, _TIMESTAMP_TAG)]
        if kept:
            resolvers[first] = kept
    Loader.yaml_implicit_resolvers = resolvers
    Loader.add_implicit_resolver(
        _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return Loader


def parse_document(text: str | bytes) -> Any:
    """The object a DMS YAML (or JSON) document describes."""
    loader = _loader()
    import yaml

    try:
        return yaml.load(text, Loader=loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        raise DmsSchemaError(f"not valid YAML: {exc}") from exc
