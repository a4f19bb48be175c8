"""The service-error translation table and retryability."""

from __future__ import annotations

from decimal import Decimal

import pytest

import asyncdynamo
from asyncdynamo import (
    AccessDeniedError,
    AsyncDynamoError,
    ConditionalCheckFailedError,
    InternalServerError,
    ResourceNotFoundError,
    ServiceError,
    ServiceValidationError,
    ThrottlingError,
    TransactionCanceledError,
    TransactionConflictError,
    error_from_service,
)


@pytest.mark.parametrize(
    ("code", "expected", "retryable"),
    [
        ("ConditionalCheckFailedException", ConditionalCheckFailedError, False),
        ("ProvisionedThroughputExceededException", ThrottlingError, True),
        ("ThrottlingException", ThrottlingError, True),
        ("RequestLimitExceeded", ThrottlingError, True),
        ("TransactionConflictException", TransactionConflictError, True),
        ("ResourceNotFoundException", ResourceNotFoundError, False),
        ("ValidationException", ServiceValidationError, False),
        ("UnrecognizedClientException", AccessDeniedError, False),
        ("InternalServerError", InternalServerError, True),
    ],
)
def test_codes_map_to_typed_errors(
    code: str, expected: type[ServiceError], retryable: bool
) -> None:
    error = error_from_service(code, "boom", operation="PutItem", status=400)
    assert type(error) is expected
    assert error.retryable is retryable
    assert (error.code, error.operation) == (code, "PutItem")


def test_namespace_prefix_is_stripped() -> None:
    error = error_from_service(
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "gone", operation="GetItem"
    )
    assert isinstance(error, ResourceNotFoundError)


def test_unknown_5xx_is_retryable_and_unknown_4xx_is_not() -> None:
    assert error_from_service("Weird", "x", operation="GetItem", status=503).retryable
    unknown = error_from_service("Weird", "x", operation="GetItem", status=400)
    assert type(unknown) is ServiceError and not unknown.retryable


def test_conditional_check_failure_carries_the_old_item_decoded() -> None:
    old = {"pk": {"S": "a"}, "n": {"N": "1.5"}, "tags": {"SS": ["x"]}}
    error = error_from_service(
        "ConditionalCheckFailedException", "no", operation="PutItem", body={"Item": old}
    )
    assert isinstance(error, ConditionalCheckFailedError)
    assert error.item == {"pk": "a", "n": Decimal("1.5"), "tags": {"x"}}


def test_cancellation_reasons_are_kept_per_action() -> None:
    body = {
        "CancellationReasons": [
            {"Code": "None"},
            {"Code": "ConditionalCheckFailed", "Message": "nope", "Item": {"pk": {"S": "b"}}},
        ]
    }
    error = error_from_service(
        "TransactionCanceledException", "cancelled", operation="TransactWriteItems", body=body
    )
    assert isinstance(error, TransactionCanceledError)
    assert error.failed_actions == (1,)
    assert error.reasons[1].item == {"pk": {"S": "b"}}


def test_every_error_class_is_exported_and_rooted() -> None:
    for name in asyncdynamo.__all__:
        value = getattr(asyncdynamo, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, AsyncDynamoError), name
            assert name.endswith("Error"), name
            assert name != "ValidationError"
