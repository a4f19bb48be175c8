"""Errors of the DynamORM compatibility layer (both under asyncdynamo's root error).

```
AsyncDynamoError
├── UsageError
│   └── ModelDeclarationError
│       └── DmsSchemaError         a DMS document is malformed or asks for what cannot be represented
└── InvalidEnvelopeError           a stored value is not a valid DynamORM encrypted envelope
```
"""

from __future__ import annotations

from .._errors import AsyncDynamoError, ModelDeclarationError

__all__ = ["DmsSchemaError", "InvalidEnvelopeError"]


class DmsSchemaError(ModelDeclarationError):
    """A DMS document cannot be loaded.

    Attributes:
        path: where in the document (``models[0].attributes[2].type``), or ``""``.
        model: the DMS model name, when the problem is inside one.
    """

    def __init__(self, message: str, *, path: str = "", model: str | None = None) -> None:
        super().__init__(f"DMS {path}: {message}" if path else f"DMS: {message}")
        self.path = path
        self.model = model


class InvalidEnvelopeError(AsyncDynamoError, ValueError):
    """A stored value is not a DynamORM encrypted envelope this version can open.

    Attributes:
        attribute: the attribute the envelope was read from.
    """

    def __init__(self, message: str, *, attribute: str) -> None:
        super().__init__(f"{attribute}: {message}")
        self.attribute = attribute
