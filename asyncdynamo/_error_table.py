"""The one table that turns a service error code into an asyncdynamo error class.

Both transports call :func:`error_from_service` (and only it) for an error answer, so matching
error codes by string happens nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._codec import deserialize_item
from ._errors import (
    AccessDeniedError,
    CancellationReason,
    ConditionalCheckFailedError,
    DecryptionFailedError,
    IdempotentParameterMismatchError,
    InternalServerError,
    ItemCollectionSizeLimitError,
    KeyUnavailableError,
    ResourceInUseError,
    ResourceNotFoundError,
    SerializationError,
    ServiceError,
    ServiceValidationError,
    ThrottlingError,
    TransactionCanceledError,
    TransactionConflictError,
    TransactionInProgressError,
)

__all__ = ["error_from_service"]


_BY_CODE: dict[str, type[ServiceError]] = {
    "ConditionalCheckFailedException": ConditionalCheckFailedError,
    "TransactionCanceledException": TransactionCanceledError,
    "TransactionConflictException": TransactionConflictError,
    "TransactionInProgressException": TransactionInProgressError,
    "IdempotentParameterMismatchException": IdempotentParameterMismatchError,
    "ProvisionedThroughputExceededException": ThrottlingError,
    "ThrottlingException": ThrottlingError,
    "Throttling": ThrottlingError,
    "RequestLimitExceeded": ThrottlingError,
    "LimitExceededException": ThrottlingError,
    "ResourceNotFoundException": ResourceNotFoundError,
    "TableNotFoundException": ResourceNotFoundError,
    "ResourceInUseException": ResourceInUseError,
    "ValidationException": ServiceValidationError,
    "SerializationException": ServiceValidationError,
    "AccessDeniedException": AccessDeniedError,
    "AccessDenied": AccessDeniedError,
    "UnrecognizedClientException": AccessDeniedError,
    "InvalidSignatureException": AccessDeniedError,
    "MissingAuthenticationTokenException": AccessDeniedError,
    "ExpiredTokenException": AccessDeniedError,
    "ExpiredToken": AccessDeniedError,
    "InvalidClientTokenId": AccessDeniedError,
    "ItemCollectionSizeLimitExceededException": ItemCollectionSizeLimitError,
    # Transaction cancellation reasons use these shorter codes.
    "ConditionalCheckFailed": ConditionalCheckFailedError,
    "TransactionConflict": TransactionConflictError,
    "ProvisionedThroughputExceeded": ThrottlingError,
    "ThrottlingError": ThrottlingError,
    "ValidationError": ServiceValidationError,
    "ItemCollectionSizeLimitExceeded": ItemCollectionSizeLimitError,
    # KMS (envelope encryption)
    "InvalidCiphertextException": DecryptionFailedError,
    "IncorrectKeyException": DecryptionFailedError,
    "NotFoundException": ResourceNotFoundError,
    "DisabledException": KeyUnavailableError,
    "KMSInvalidStateException": KeyUnavailableError,
    "KeyUnavailableException": InternalServerError,
    "DependencyTimeoutException": InternalServerError,
    "KMSInternalException": InternalServerError,
    "InternalServerError": InternalServerError,
    "InternalFailure": InternalServerError,
    "ServiceUnavailable": InternalServerError,
    "ServiceUnavailableException": InternalServerError,
}


def _reasons(raw: Any) -> list[CancellationReason]:
    reasons: list[CancellationReason] = []
    for entry in raw or ():
        if not isinstance(entry, Mapping):
            continue
        reasons.append(
            CancellationReason(
                code=str(entry.get("Code", "None")),
                message=str(entry.get("Message", "") or ""),
                item=entry.get("Item"),
            )
        )
    return reasons


def _decoded_item(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping) or not raw:
        return None
    try:
        return deserialize_item(raw)
    except (SerializationError, ValueError, TypeError):
        # A malformed item in an error answer must not replace the error itself.
        return None


def error_from_service(
    code: str,
    message: str,
    *,
    operation: str,
    status: int | None = None,
    body: Mapping[str, Any] | None = None,
) -> ServiceError:
    """Build the typed error for a service error response.

    Both transports call this (and only this) to turn an error answer into an exception, so the
    mapping from service codes to classes lives in one place.

    Args:
        code: the error code, with any ``namespace#`` prefix already removed or not.
        message: the service's message.
        operation: the API operation name.
        status: the HTTP status code.
        body: the parsed error document (for ``Item`` / ``CancellationReasons``). A returned
            ``Item`` is decoded (attribute name → Python value) into the error's ``.item``.
    """
    code = code.rsplit("#", 1)[-1]
    body = body or {}
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = InternalServerError if status is not None and status >= 500 else ServiceError
    if cls is ConditionalCheckFailedError:
        return ConditionalCheckFailedError(
            message,
            item=_decoded_item(body.get("Item")),
            raw_item=body.get("Item"),
            code=code,
            operation=operation,
            status=status,
        )
    if cls is TransactionCanceledError:
        return TransactionCanceledError(
            message,
            reasons=_reasons(body.get("CancellationReasons")),
            code=code,
            operation=operation,
            status=status,
        )
    return cls(message, code=code, operation=operation, status=status)
