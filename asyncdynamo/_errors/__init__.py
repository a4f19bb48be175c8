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

from typing import TYPE_CHECKING, Any

# The classes live in private modules by layer (misuse, service answers, lost answers and
# outcomes, partner accounts); this module is the one the package imports them from.
from ._base import (
    AsyncDynamoError,
    ConfigurationError,
    CursorError,
    EncryptionNotConfiguredError,
    ExpressionError,
    InvalidKeyError,
    ItemTooLargeError,
    ModelDeclarationError,
    NoIndexForQueryError,
    RequestLimitError,
    SerializationError,
    UsageError,
)
from ._outcome import (
    BatchDeadlineExceededError,
    BatchLambdaTimeoutError,
    CertificateVerificationError,
    ConnectionFailedError,
    DeadlineExceededError,
    ItemDecodeError,
    ItemNotFoundError,
    KMSUnavailableError,
    LambdaTimeoutError,
    RequestTimeoutError,
    TransportError,
    UnprocessedItemsError,
    WriteOutcomeUnknownError,
)
from ._service import (
    AccessDeniedError,
    CancellationReason,
    ConditionalCheckFailedError,
    DecryptionFailedError,
    IdempotentParameterMismatchError,
    InternalServerError,
    ItemAlreadyExistsError,
    ItemCollectionSizeLimitError,
    KeyUnavailableError,
    ResourceInUseError,
    ResourceNotFoundError,
    ServiceError,
    ServiceValidationError,
    ThrottlingError,
    TransactionCanceledError,
    TransactionConflictError,
    TransactionFailedError,
    TransactionInProgressError,
    VersionConflictError,
)

if TYPE_CHECKING:
    from ._partner import (
        AssumeRoleFailedError,
        AssumeRoleUnavailableError,
        PartnerAccountMismatchError,
        PartnerConfigurationError,
        PartnerNotFoundError,
    )

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

# Partner-account errors load on first use: a single-account handler never needs them.
_PARTNER = frozenset(
    {
        "AssumeRoleFailedError",
        "AssumeRoleUnavailableError",
        "PartnerAccountMismatchError",
        "PartnerConfigurationError",
        "PartnerNotFoundError",
    }
)


def __getattr__(name: str) -> Any:
    if name in _PARTNER:
        from . import _partner

        value = getattr(_partner, name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
