"""KMS ``GenerateDataKey`` and ``Decrypt`` through the DB's client (retries, deadline, errors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._client import Client
from .._errors import (
    AccessDeniedError,
    AsyncDynamoError,
    DeadlineExceededError,
    DecryptionFailedError,
    KMSUnavailableError,
    ResourceNotFoundError,
    ServiceError,
    ServiceValidationError,
)

__all__ = ["decrypt_data_key", "encryption_context", "generate_data_key"]

_TABLE = "asyncdynamo:table"
_ATTRIBUTE = "asyncdynamo:attribute"


def encryption_context(table: str, attribute: str) -> dict[str, str]:
    """The KMS EncryptionContext of a data key: CloudTrail shows what each key use was for."""
    return {_TABLE: table, _ATTRIBUTE: attribute}


# Decrypt refusals that mean "this stored value cannot be opened": a damaged key ARN or data key,
# one moved to another attribute or table (the encryption context differs), or a key this role
# may not use (a damaged account id; a value sealed elsewhere).
_REFUSED = (DecryptionFailedError, ResourceNotFoundError, ServiceValidationError, AccessDeniedError)


async def _call(kms: Client, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """One KMS call; after the client's retries, a retryable failure is KMSUnavailableError."""
    try:
        return await kms.call(operation, params)
    except DeadlineExceededError:
        raise
    except AsyncDynamoError as exc:
        if exc.retryable:
            raise KMSUnavailableError(
                f"KMS {operation} failed ({type(exc).__name__}); nothing was written or "
                "returned, retry the operation",
                operation=operation,
            ) from exc
        if operation == "Decrypt" and isinstance(exc, _REFUSED):
            raise DecryptionFailedError(
                f"KMS would not decrypt the data key of an encrypted value ({type(exc).__name__}):"
                " it was changed, copied from another attribute or table, or sealed under a key "
                "this role may not use",
                code=exc.code if isinstance(exc, ServiceError) else "",
                operation=operation,
            ) from exc
        raise


async def generate_data_key(
    kms: Client, key_id: str, context: Mapping[str, str]
) -> tuple[bytes, bytes, str]:
    """A new AES-256 data key: ``(plaintext, encrypted key, key ARN)``."""
    params: dict[str, Any] = {"KeyId": key_id, "KeySpec": "AES_256"}
    if context:  # DynamORM's data keys have none (asyncdynamo._dms)
        params["EncryptionContext"] = dict(context)
    response = await _call(kms, "GenerateDataKey", params)
    return bytes(response["Plaintext"]), bytes(response["CiphertextBlob"]), str(response["KeyId"])


async def decrypt_data_key(
    kms: Client, encrypted_key: bytes, key_arn: str, context: Mapping[str, str]
) -> bytes:
    """The plaintext of a stored data key, decrypted under the key ARN it names (pinned)."""
    params: dict[str, Any] = {"CiphertextBlob": encrypted_key, "KeyId": key_arn}
    if context:  # DynamORM's data keys have none (asyncdynamo._dms)
        params["EncryptionContext"] = dict(context)
    response = await _call(kms, "Decrypt", params)
    return bytes(response["Plaintext"])
