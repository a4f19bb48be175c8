"""Errors for answers that never came, outcomes the caller asked about, and deadlines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._base import AsyncDynamoError


class KMSUnavailableError(AsyncDynamoError):
    """KMS throttled, failed (5xx) or could not be reached, after the client's retries.

    Raised before a write is sent (nothing was written) or after a read returned (nothing was
    changed), so the whole operation may be retried. The KMS error is the ``__cause__``.

    Attributes:
        operation: the KMS operation (``GenerateDataKey`` or ``Decrypt``).
    """

    retryable = True

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


# --- nothing usable came back -----------------------------------------------------------------


class TransportError(AsyncDynamoError):
    """No usable answer was received.

    Attributes:
        request_sent: ``False`` only when no byte of the request can have reached the service
            (connection refused, DNS failure, TLS handshake failure, connect timeout, a pooled
            connection that failed before anything was written): sending again is then always
            safe. ``True`` (the default) means the service may have processed the request.
    """

    retryable = True

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class ConnectionFailedError(TransportError):
    pass


class RequestTimeoutError(TransportError):
    pass


class CertificateVerificationError(TransportError):
    """The endpoint's TLS certificate is not trusted (unknown CA, wrong host name, expired).

    Not retryable: another attempt meets the same certificate. The request was not sent.
    """

    retryable = False


class WriteOutcomeUnknownError(AsyncDynamoError):
    """A write's answer was lost (a timeout or reset after sending, a 5xx) and whether it was
    applied cannot be proven; sending it again could apply it twice. Not retryable: read the
    item and decide (docs/errors.md).

    Attributes:
        operation: the API operation (``UpdateItem``...).
        table: the table name.
        key: the item's key (wire format), ``{}`` when unknown.
        item: the item as stored when the resolution read or was shown it (wire format), if any.
        cause: the error that made the outcome unknown (also the ``__cause__``).
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        table: str,
        key: Mapping[str, Any],
        cause: BaseException | None,
        item: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.table = table
        self.key = dict(key)
        self.cause = cause
        self.item = dict(item) if item is not None else None


# --- outcomes the caller asked to be told about -----------------------------------------------


class ItemNotFoundError(AsyncDynamoError, LookupError):
    """``get(..., required=True)`` found no item under ``key``."""

    def __init__(self, message: str, *, model: str, key: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.model = model
        self.key = dict(key)


class ItemDecodeError(AsyncDynamoError, ValueError):
    """An item read from DynamoDB does not validate as its model (the stored data and the model
    disagree: an old item shape, a manual edit, a nested projection that cuts a model in half).

    Attributes:
        model: the model class name.
        item: the wire-format item (or projected attributes) that failed.
    """

    def __init__(self, message: str, *, model: str, item: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.model = model
        self.item = dict(item)


class UnprocessedItemsError(AsyncDynamoError):
    """A batch operation gave up with items still unprocessed; nothing was dropped silently.

    Attributes:
        unprocessed: per table name, the wire-format requests (writes) or keys (gets) left over.
        processed_count: how many items did succeed before giving up.
        partial: for ``batch_get``, the models that were read before giving up.
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        unprocessed: Mapping[str, Sequence[Mapping[str, Any]]],
        processed_count: int = 0,
        partial: Sequence[Any] = (),
    ) -> None:
        super().__init__(message)
        self.unprocessed = {table: list(items) for table, items in unprocessed.items()}
        self.processed_count = processed_count
        self.partial = list(partial)


class DeadlineExceededError(AsyncDynamoError, TimeoutError):
    """The deadline set for the current call passed before it finished."""

    def __init__(self, message: str, *, operation: str, remaining: float) -> None:
        super().__init__(message)
        self.operation = operation
        self.remaining = remaining


class BatchDeadlineExceededError(DeadlineExceededError):
    """The deadline passed in the middle of ``batch_write``/``batch_get``; what is not done is here.

    Attributes:
        unprocessed: per table name, the wire-format requests (writes) or keys (gets) that are
            not known to be done: never sent, left unprocessed by DynamoDB, or in flight at the
            deadline. Sending them again finishes the batch.
        in_flight: the part of ``unprocessed`` whose request was sent (or about to be) when the
            deadline cut it: DynamoDB may or may not have applied it.
        processed_count: how many items are known to be done.
        partial: for ``batch_get``, the models read before the deadline.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        remaining: float,
        unprocessed: Mapping[str, Sequence[Mapping[str, Any]]],
        in_flight: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        processed_count: int = 0,
        partial: Sequence[Any] = (),
    ) -> None:
        super().__init__(message, operation=operation, remaining=remaining)
        self.unprocessed = {table: list(items) for table, items in unprocessed.items()}
        self.in_flight = {table: list(items) for table, items in (in_flight or {}).items()}
        self.processed_count = processed_count
        self.partial = list(partial)


class LambdaTimeoutError(DeadlineExceededError):
    """The Lambda invocation's deadline (remaining time minus the cleanup buffer) passed.

    Raised by the views :meth:`LambdaDB.with_lambda_timeout` returns, and by the handler runner
    when the handler itself outlives the invocation. The in-flight request was cancelled.

    Attributes:
        operation: what was cut short (an API operation such as ``"GetItem"``, a DB method, or
            ``"handler"``).
        remaining: seconds that were left before the deadline when it was detected (zero or
            negative: the deadline had passed).
    """


class BatchLambdaTimeoutError(LambdaTimeoutError, BatchDeadlineExceededError):
    """The Lambda deadline passed mid-batch: a :class:`LambdaTimeoutError` that carries what is
    not done, as :class:`BatchDeadlineExceededError` describes."""
