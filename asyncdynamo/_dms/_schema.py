"""``load_dms``: a DMS document (YAML, JSON or already parsed) → asyncdynamo model classes."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._compat import Compat, EnvelopeFormat
from .._model import Model
from ._document import parse_definition
from ._errors import DmsSchemaError
from ._loader import build_model

__all__ = ["DmsSchema", "load_dms", "load_dms_file"]


@dataclass(frozen=True, slots=True)
class DmsSchema(Mapping[str, type[Model]]):
    """The models of one DMS document, by DMS model name (``schema["User"]``).

    Attributes:
        version: the document's ``dms_version``.
        namespace: its ``namespace``, if any.
        models: model name → model class, in document order.
    """

    version: str
    namespace: str | None
    models: Mapping[str, type[Model]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> type[Model]:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(self.models) or "none"
            raise KeyError(f"the DMS document has no model {name!r} (models: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)


def load_dms(
    document: str | bytes | Mapping[str, Any],
    *,
    compat: Compat = Compat.DYNAMORM,
    envelope_format: EnvelopeFormat = EnvelopeFormat.ASYNCDYNAMO,
    module: str = "asyncdynamo.dms.models",
) -> DmsSchema:
    """Build asyncdynamo models from a DMS document.

    Args:
        document: the YAML (or JSON) text, or the document already parsed into a mapping.
        compat: the rules the models follow; DynamORM's by default, so items are read and
            written the way DynamORM services do (see ``docs/dynamorm.md``).
        envelope_format: how ``encryption`` attributes are written: asyncdynamo's envelope
            (default) or DynamORM's (``EnvelopeFormat.DYNAMORM``, needs ``Compat.DYNAMORM``).
            A DynamORM model reads both.
        module: the ``__module__`` given to the generated classes.

    Raises:
        DmsSchemaError: the document is malformed, uses an unsupported ``dms_version``, or asks
            for something asyncdynamo cannot represent; the message names the place.
    """
    if isinstance(document, str | bytes):
        from ._yaml import parse_document

        parsed: Any = parse_document(document)
    else:
        parsed = document
    definition = parse_definition(parsed)
    models: dict[str, type[Model]] = {}
    for model in definition.models:
        models[model.name] = build_model(
            model,
            compat=Compat(compat),
            module=module,
            namespace=definition.namespace,
            envelope_format=EnvelopeFormat(envelope_format),
        )
    return DmsSchema(definition.version, definition.namespace, models)


def load_dms_file(
    path: str | os.PathLike[str],
    *,
    compat: Compat = Compat.DYNAMORM,
    envelope_format: EnvelopeFormat = EnvelopeFormat.ASYNCDYNAMO,
) -> DmsSchema:
    """:func:`load_dms` on the contents of a file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DmsSchemaError(f"cannot read {os.fspath(path)!r}: {exc}") from exc
    return load_dms(text, compat=compat, envelope_format=envelope_format)
