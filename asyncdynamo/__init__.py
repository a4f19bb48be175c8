"""asyncdynamo: an asyncio-native DynamoDB framework with pydantic v2 models, built for Lambda."""

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._client import ConsumedCapacity, current_deadline, deadline_scope
from ._codec import deserialize, deserialize_item, serialize, serialize_item
from ._compat import Compat, EnvelopeFormat
from ._config import (
    Config,
    Credentials,
    CredentialsProvider,
    DataKeyCachePolicy,
    RetryPolicy,
    TransportKind,
)
from ._db import DB, create_transport
from ._errors import (
    AccessDeniedError,
    AsyncDynamoError,
    BatchDeadlineExceededError,
    BatchLambdaTimeoutError,
    CancellationReason,
    CertificateVerificationError,
    ConditionalCheckFailedError,
    ConfigurationError,
    ConnectionFailedError,
    CursorError,
    DeadlineExceededError,
    DecryptionFailedError,
    EncryptionNotConfiguredError,
    ExpressionError,
    IdempotentParameterMismatchError,
    InternalServerError,
    InvalidKeyError,
    ItemAlreadyExistsError,
    ItemCollectionSizeLimitError,
    ItemDecodeError,
    ItemNotFoundError,
    ItemTooLargeError,
    KeyUnavailableError,
    KMSUnavailableError,
    LambdaTimeoutError,
    ModelDeclarationError,
    NoIndexForQueryError,
    RequestLimitError,
    RequestTimeoutError,
    ResourceInUseError,
    ResourceNotFoundError,
    SerializationError,
    ServiceError,
    ServiceValidationError,
    ThrottlingError,
    TransactionCanceledError,
    TransactionConflictError,
    TransactionFailedError,
    TransactionInProgressError,
    TransportError,
    UnprocessedItemsError,
    UsageError,
    VersionConflictError,
    WriteOutcomeUnknownError,
)
from ._lambda import LambdaConfig, LambdaDB, new_lambda_optimized
from ._lambda_env import LambdaEnvironment, is_lambda, lambda_environment
from ._markers import (
    TTL,
    Attr,
    CreatedAt,
    Encrypted,
    GlobalIndex,
    JsonBlob,
    KeyRole,
    LocalIndex,
    OmitEmpty,
    PartitionKey,
    Projection,
    SortKey,
    UpdatedAt,
    Version,
)
from ._model import Model, env_table_name, spec_of
from ._runner import LambdaContextLike, LambdaRunner, lambda_handler, run_in_lambda_loop
from ._spec import FieldSpec, IndexKind, IndexSpec, TableSpec
from ._transport import Transport

if _TYPE_CHECKING:
    from ._attribute_type import AttributeType
    from ._batch import Key
    from ._error_table import error_from_service
    from ._errors import (
        AssumeRoleFailedError,
        AssumeRoleUnavailableError,
        PartnerAccountMismatchError,
        PartnerConfigurationError,
        PartnerNotFoundError,
    )
    from ._expr import Condition, Path, attr
    from ._fan_out import PartnerResult
    from ._multi_account import MultiAccountDB
    from ._pages import Page, ResultShape, TargetKind
    from ._partner_config import PartnerConfig, load_partners
    from ._query import Query, QueryPlan
    from ._scan import ParallelScan, Scan
    from ._schema import BillingMode, Schema, SchemaReport, StreamView
    from ._transact import Transaction
    from ._update import Update

# Imported on first use: a Lambda handler whose first request is a GetItem never pays for
# expressions, updates, queries, batches, transactions, schema management or partner accounts
# (nor their errors), nor for the table of service error codes until an error answer arrives.
_LAZY: dict[str, str] = {
    "AttributeType": "_attribute_type",
    "Key": "_batch",
    "error_from_service": "_error_table",
    "AssumeRoleFailedError": "_errors",
    "AssumeRoleUnavailableError": "_errors",
    "PartnerAccountMismatchError": "_errors",
    "PartnerConfigurationError": "_errors",
    "PartnerNotFoundError": "_errors",
    "Condition": "_expr",
    "Path": "_expr",
    "attr": "_expr",
    "PartnerResult": "_fan_out",
    "MultiAccountDB": "_multi_account",
    "Page": "_pages",
    "ResultShape": "_pages",
    "TargetKind": "_pages",
    "PartnerConfig": "_partner_config",
    "load_partners": "_partner_config",
    "Query": "_query",
    "QueryPlan": "_query",
    "ParallelScan": "_scan",
    "Scan": "_scan",
    "BillingMode": "_schema",
    "Schema": "_schema",
    "SchemaReport": "_schema",
    "StreamView": "_schema",
    "Transaction": "_transact",
    "Update": "_update",
}


def __getattr__(name: str) -> _Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'asyncdynamo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"asyncdynamo.{module_name}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DB",
    "TTL",
    "AccessDeniedError",
    "AssumeRoleFailedError",
    "AssumeRoleUnavailableError",
    "AsyncDynamoError",
    "Attr",
    "AttributeType",
    "BatchDeadlineExceededError",
    "BatchLambdaTimeoutError",
    "BillingMode",
    "CancellationReason",
    "CertificateVerificationError",
    "Compat",
    "Condition",
    "ConditionalCheckFailedError",
    "Config",
    "ConfigurationError",
    "ConnectionFailedError",
    "ConsumedCapacity",
    "CreatedAt",
    "Credentials",
    "CredentialsProvider",
    "CursorError",
    "DataKeyCachePolicy",
    "DeadlineExceededError",
    "DecryptionFailedError",
    "Encrypted",
    "EncryptionNotConfiguredError",
    "EnvelopeFormat",
    "ExpressionError",
    "FieldSpec",
    "GlobalIndex",
    "IdempotentParameterMismatchError",
    "IndexKind",
    "IndexSpec",
    "InternalServerError",
    "InvalidKeyError",
    "ItemAlreadyExistsError",
    "ItemCollectionSizeLimitError",
    "ItemDecodeError",
    "ItemNotFoundError",
    "ItemTooLargeError",
    "JsonBlob",
    "KMSUnavailableError",
    "Key",
    "KeyRole",
    "KeyUnavailableError",
    "LambdaConfig",
    "LambdaContextLike",
    "LambdaDB",
    "LambdaEnvironment",
    "LambdaRunner",
    "LambdaTimeoutError",
    "LocalIndex",
    "Model",
    "ModelDeclarationError",
    "MultiAccountDB",
    "NoIndexForQueryError",
    "OmitEmpty",
    "Page",
    "ParallelScan",
    "PartitionKey",
    "PartnerAccountMismatchError",
    "PartnerConfig",
    "PartnerConfigurationError",
    "PartnerNotFoundError",
    "PartnerResult",
    "Path",
    "Projection",
    "Query",
    "QueryPlan",
    "RequestLimitError",
    "RequestTimeoutError",
    "ResourceInUseError",
    "ResourceNotFoundError",
    "ResultShape",
    "RetryPolicy",
    "Scan",
    "Schema",
    "SchemaReport",
    "SerializationError",
    "ServiceError",
    "ServiceValidationError",
    "SortKey",
    "StreamView",
    "TableSpec",
    "TargetKind",
    "ThrottlingError",
    "Transaction",
    "TransactionCanceledError",
    "TransactionConflictError",
    "TransactionFailedError",
    "TransactionInProgressError",
    "Transport",
    "TransportError",
    "TransportKind",
    "UnprocessedItemsError",
    "Update",
    "UpdatedAt",
    "UsageError",
    "Version",
    "VersionConflictError",
    "WriteOutcomeUnknownError",
    "attr",
    "create_transport",
    "current_deadline",
    "deadline_scope",
    "deserialize",
    "deserialize_item",
    "env_table_name",
    "error_from_service",
    "is_lambda",
    "lambda_environment",
    "lambda_handler",
    "load_partners",
    "new_lambda_optimized",
    "run_in_lambda_loop",
    "serialize",
    "serialize_item",
    "spec_of",
]
