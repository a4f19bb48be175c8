"""Errors for a service (DynamoDB, KMS) that answered with an error code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._record import FrozenRecord, frozen, setfield
from ._base import AsyncDynamoError

# --- the service answered with an error -------------------------------------------------------


class ServiceError(AsyncDynamoError):
    """The service answered with an error.

    Attributes:
        code: the service's error code (``ConditionalCheckFailedException``...).
        message: the service's message.
        operation: the API operation that failed (``PutItem``...).
        status: the HTTP status code, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        operation: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(f"{operation}: {code}: {message}" if operation else message)
        self.code = code
        self.message = message
        self.operation = operation
        self.status = status


class ConditionalCheckFailedError(ServiceError):
    """A condition expression evaluated to false; nothing was written.

    Attributes:
        item: the item as stored when the condition failed, decoded (attribute name → Python
            value, like ``deserialize_item``), or ``None`` when DynamoDB returned none (no
            item under the key, or the request did not ask for it).
        model_item: the same item as a model instance, when the call knew its model (``put``,
            ``update``, ``delete`` and transaction actions) and the item validates as that
            model; else ``None``.
        raw_item: the item as DynamoDB returned it (wire format), or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        item: Mapping[str, Any] | None = None,
        model_item: Any = None,
        raw_item: Mapping[str, Any] | None = None,
        code: str = "ConditionalCheckFailedException",
        operation: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, operation=operation, status=status)
        self.item = dict(item) if item is not None else None
        self.model_item = model_item
        self.raw_item = dict(raw_item) if raw_item is not None else None


class VersionConflictError(ConditionalCheckFailedError):
    """Optimistic locking failed: the stored item's version is not the one the write expected."""

    def __init__(
        self,
        message: str,
        *,
        expected_version: int | None,
        actual_version: int | None = None,
        item: Mapping[str, Any] | None = None,
        model_item: Any = None,
        operation: str = "",
    ) -> None:
        super().__init__(message, item=item, model_item=model_item, operation=operation)
        self.expected_version = expected_version
        self.actual_version = actual_version


class ItemAlreadyExistsError(ConditionalCheckFailedError):
    """``put`` creates by default and an item with the same key exists; pass ``overwrite=True``
    to replace it."""


@frozen
class CancellationReason(FrozenRecord):
    """Why one action of a cancelled transaction failed (``code`` is ``"None"`` if it did not)."""

    __slots__ = ("code", "item", "message")
    code: str
    message: str
    item: Mapping[str, Any] | None

    def __init__(self, code: str, message: str = "", item: Mapping[str, Any] | None = None) -> None:
        setfield(self, "code", code)
        setfield(self, "message", message)
        setfield(self, "item", item)

    @property
    def failed(self) -> bool:
        return self.code not in ("None", "")


class TransactionCanceledError(ServiceError):
    """A transaction was cancelled; ``reasons[i]`` explains action ``i``."""

    def __init__(
        self,
        message: str,
        *,
        reasons: Sequence[CancellationReason] = (),
        code: str = "TransactionCanceledException",
        operation: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, code=code, operation=operation, status=status)
        self.reasons = tuple(reasons)

    @property
    def failed_actions(self) -> tuple[int, ...]:
        """Indexes of the actions whose condition or validation caused the cancellation."""
        return tuple(i for i, reason in enumerate(self.reasons) if reason.failed)


class TransactionFailedError(TransactionCanceledError):
    """A cancelled transaction, with a typed cause for every action that failed.

    ``causes[i]`` is ``None`` for actions that were fine, else the error that action alone
    would have raised: a :class:`VersionConflictError` for a stale version in action 3 is
    ``causes[3]``. ``reasons`` keeps the service's raw cancellation reasons.
    """

    def __init__(
        self,
        message: str,
        *,
        reasons: Sequence[CancellationReason],
        causes: Sequence[AsyncDynamoError | None],
        operation: str = "TransactWriteItems",
    ) -> None:
        super().__init__(message, reasons=reasons, operation=operation)
        self.causes = tuple(causes)

    @property
    def failures(self) -> dict[int, AsyncDynamoError]:
        """The failed actions' errors by action index."""
        return {i: cause for i, cause in enumerate(self.causes) if cause is not None}


class TransactionConflictError(ServiceError):
    retryable = True


class TransactionInProgressError(ServiceError):
    retryable = True


class IdempotentParameterMismatchError(ServiceError):
    pass


class ThrottlingError(ServiceError):
    retryable = True


class ResourceNotFoundError(ServiceError):
    pass


class ResourceInUseError(ServiceError):
    pass


class ServiceValidationError(ServiceError):
    pass


class AccessDeniedError(ServiceError):
    pass


class ItemCollectionSizeLimitError(ServiceError):
    pass


class InternalServerError(ServiceError):
    retryable = True


class DecryptionFailedError(ServiceError):
    """An encrypted value could not be opened, and no plaintext is returned.

    Raised when KMS will not decrypt the value's data key (wrong key or encryption context), and
    when the value itself fails its checks: a flipped byte, a truncated or unknown format, or a
    value copied from another item, attribute or table. ``code`` is the KMS error code, or ``""``
    when the check failed locally.
    """


class KeyUnavailableError(ServiceError):
    """The KMS key is disabled or pending deletion."""
