"""The root error and misuse errors: everything caught before a request is sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class AsyncDynamoError(Exception):
    """Root of every error raised by asyncdynamo."""

    retryable: ClassVar[bool] = False


# --- misuse, caught before sending ------------------------------------------------------------


class UsageError(AsyncDynamoError):
    """The request cannot be valid; nothing was sent."""


class ModelDeclarationError(UsageError, TypeError):
    """A model class declares its keys, indexes or lifecycle fields wrongly."""


class SerializationError(UsageError, ValueError):
    """A Python value has no DynamoDB representation (NaN, a naive datetime, an empty key...)."""


class ItemTooLargeError(SerializationError):
    """An item is larger than DynamoDB's 400 KB item limit."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(message)
        self.size = size


class InvalidKeyError(UsageError, ValueError):
    """A key value is missing, empty, or not of the key attribute's type."""


class ExpressionError(UsageError, ValueError):
    """An expression names an unknown field, compares mismatched types, or exceeds limits."""


class RequestLimitError(UsageError, ValueError):
    """A batch or transaction breaks one of DynamoDB's request limits."""


class NoIndexForQueryError(UsageError, ValueError):
    """No table key or index can serve the query's key conditions."""

    def __init__(self, message: str, *, considered: Sequence[str]) -> None:
        super().__init__(message)
        self.considered = tuple(considered)


class CursorError(UsageError, ValueError):
    """A pagination cursor was tampered with, is malformed, or belongs to another query."""


class ConfigurationError(UsageError, ValueError):
    """A configuration or schema option cannot work as given."""


class EncryptionNotConfiguredError(ConfigurationError):
    """A model with ``Encrypted`` fields was used on a DB with no KMS key; nothing was sent.

    Set ``Config.kms_key_id`` (or ``__kms_key_id__`` on the model). Field values are never
    stored or read in clear as a fallback.

    Attributes:
        model: the model class name.
    """

    def __init__(self, message: str, *, model: str) -> None:
        super().__init__(message)
        self.model = model
