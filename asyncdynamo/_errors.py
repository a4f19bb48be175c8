"""Every error asyncdynamo raises, and the one table that translates service error codes.

```
AsyncDynamoError                       root; ``retryable`` says whether trying again may succeed
├── UsageError                         misuse, detected before any request is sent
│   ├── ModelDeclarationError          a model class is declared wrongly (raised at class creation)
│   ├── SerializationError             a value cannot be represented in DynamoDB
│   │   └── ItemTooLargeError          an item is over DynamoDB's 400 KB limit
│   ├── InvalidKeyError                a key is missing, empty or of the wrong type
│   ├── ExpressionError                an expression names an unknown field, mixes types, is too big
│   ├── RequestLimitError              a batch / transaction is over DynamoDB's limits
│   ├── NoIndexForQueryError           no table or index can serve a query (``.considered``)
│   ├── CursorError                    a pagination cursor is tampered or belongs to another query
│   ├── ConfigurationError             a Config / schema option cannot work
│   │   ├── PartnerConfigurationError  a partner's role ARN, ExternalId... is invalid (``.partner_id``)
│   │   └── EncryptionNotConfiguredError  a model has Encrypted fields and no KMS key is set (``.model``)
│   └── PartnerNotFoundError           no partner is configured under that id (``.partner_id``)
├── ServiceError                       DynamoDB (or STS/KMS) answered with an error (``.code``)
│   ├── ConditionalCheckFailedError    a condition was false (``.item`` decoded, ``.model_item``)
│   │   ├── VersionConflictError       optimistic locking: the stored version moved on
│   │   └── ItemAlreadyExistsError     ``put`` (create) found an item under the same key
│   ├── TransactionCanceledError       a transaction was cancelled (``.reasons`` per action)
│   │   └── TransactionFailedError     ... with a typed cause per failed action (``.causes``)
│   ├── TransactionConflictError       another transaction touched the item (retryable)
│   ├── TransactionInProgressError     same ClientRequestToken still running (retryable)
│   ├── IdempotentParameterMismatchError  a token was reused with different parameters
│   ├── ThrottlingError                throughput or request-rate exceeded (retryable)
│   ├── ResourceNotFoundError          the table or index does not exist
│   ├── ResourceInUseError             the table is being created, updated or deleted
│   ├── ServiceValidationError         DynamoDB rejected the request as malformed
│   ├── AccessDeniedError              credentials lack permission, or are invalid/expired
│   ├── ItemCollectionSizeLimitError   an LSI item collection is over 10 GB
│   ├── DecryptionFailedError          a sealed value is corrupt, moved, or KMS would not decrypt it
│   ├── KeyUnavailableError            KMS: the key is disabled or pending deletion
│   └── InternalServerError            a 5xx from the service (retryable)
├── TransportError                     no usable answer came back (retryable; ``.request_sent``)
│   ├── ConnectionFailedError          connecting or sending failed
│   ├── RequestTimeoutError            the service did not answer in time
│   └── CertificateVerificationError   the endpoint's TLS certificate is not trusted (not retryable)
├── WriteOutcomeUnknownError           a write may or may not have been applied (``.table``, ``.key``)
├── ItemNotFoundError                  ``get(..., required=True)`` found nothing (``.key``)
├── ItemDecodeError                    a stored item does not validate as its model (``.item``)
├── UnprocessedItemsError              a batch left items unprocessed after every retry
├── KMSUnavailableError                KMS throttled, failed or was unreachable; nothing was written (retryable)
├── AssumeRoleFailedError              STS refused a partner's role (``.partner_id``, ``.role_arn``)
│   ├── AssumeRoleUnavailableError     STS throttled, failed or was unreachable (retryable)
│   └── PartnerAccountMismatchError    the session STS gave is not provably in the partner's account
└── DeadlineExceededError              the caller's deadline passed (``.operation``, ``.remaining``)
    ├── LambdaTimeoutError             the Lambda invocation's deadline (remaining time − buffer) passed
    │   └── BatchLambdaTimeoutError    ... mid-batch (also a BatchDeadlineExceededError)
    └── BatchDeadlineExceededError     the deadline passed mid-batch (``.unprocessed``, ``.in_flight``)
```
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "AccessDeniedError",
    "AssumeRoleFailedError",
    "AssumeRoleUnavailableError",
    "AsyncDynamoError",
    "BatchDeadlineExceededError",
    "BatchLambdaTimeoutError",
    "CancellationReason",
    "CertificateVerificationError",
    "ConditionalCheckFailedError",
    "ConfigurationError",
    "ConnectionFailedError",
    "CursorError",
    "DeadlineExceededError",
    "DecryptionFailedError",
    "EncryptionNotConfiguredError",
    "ExpressionError",
    "IdempotentParameterMismatchError",
    "InternalServerError",
    "InvalidKeyError",
    "ItemAlreadyExistsError",
    "ItemCollectionSizeLimitError",
    "ItemDecodeError",
    "ItemNotFoundError",
    "ItemTooLargeError",
    "KMSUnavailableError",
    "KeyUnavailableError",
    "LambdaTimeoutError",
    "ModelDeclarationError",
    "NoIndexForQueryError",
    "PartnerAccountMismatchError",
    "PartnerConfigurationError",
    "PartnerNotFoundError",
    "RequestLimitError",
    "RequestTimeoutError",
    "ResourceInUseError",
    "ResourceNotFoundError",
    "SerializationError",
    "ServiceError",
    "ServiceValidationError",
    "ThrottlingError",
    "TransactionCanceledError",
    "TransactionConflictError",
    "TransactionFailedError",
    "TransactionInProgressError",
    "TransportError",
    "UnprocessedItemsError",
    "UsageError",
    "VersionConflictError",
    "WriteOutcomeUnknownError",
]


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


@dataclass(frozen=True, slots=True)
class CancellationReason:
    """Why one action of a cancelled transaction failed (``code`` is ``"None"`` if it did not)."""

    code: str
    message: str = ""
    item: Mapping[str, Any] | None = None

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


# --- partner accounts (MultiAccountDB) ----------------------------------------------------------


class PartnerConfigurationError(ConfigurationError):
    """A partner's settings cannot work (no ExternalId, a malformed role ARN...).

    Attributes:
        partner_id: the partner whose settings are wrong (``""`` when the document as a whole is).
    """

    def __init__(self, message: str, *, partner_id: str) -> None:
        super().__init__(message)
        self.partner_id = partner_id


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


class PartnerNotFoundError(UsageError, LookupError):
    """No partner is configured under ``partner_id``; nothing was sent.

    Attributes:
        partner_id: the id that was asked for.
    """

    def __init__(self, message: str, *, partner_id: str) -> None:
        super().__init__(message)
        self.partner_id = partner_id


class AssumeRoleFailedError(AsyncDynamoError):
    """STS would not give credentials for a partner's role (access denied, wrong ExternalId...).

    The STS error is the ``__cause__`` (and ``cause``).

    Attributes:
        partner_id: the partner whose role could not be assumed.
        role_arn: the role that was asked for.
        cause: the error STS (or the transport) raised, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        partner_id: str,
        role_arn: str = "",
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.partner_id = partner_id
        self.role_arn = role_arn
        self.cause = cause


class AssumeRoleUnavailableError(AssumeRoleFailedError):
    """STS throttled the AssumeRole call, failed (5xx) or could not be reached; retrying may work."""

    retryable = True


class PartnerAccountMismatchError(AssumeRoleFailedError):
    """STS answered with a session that is not provably in the partner's account.

    The assumed-role ARN was missing, unparsable, or named another account: the credentials
    are not used (money would move in an account nobody configured).

    Attributes:
        expected_account: the partner's account (from its role ARN).
        assumed_arn: the ``AssumedRoleUser.Arn`` STS sent (``""`` when it sent none).
    """

    def __init__(
        self,
        message: str,
        *,
        partner_id: str,
        role_arn: str,
        expected_account: str,
        assumed_arn: str,
    ) -> None:
        super().__init__(message, partner_id=partner_id, role_arn=role_arn)
        self.expected_account = expected_account
        self.assumed_arn = assumed_arn
