"""The lean transport against a real server (moto by default): DynamoDB, STS and KMS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from asyncdynamo._codec import deserialize_item
from asyncdynamo._config import Credentials
from asyncdynamo._errors import (
    ConditionalCheckFailedError,
    ResourceNotFoundError,
    ServiceError,
    TransactionCanceledError,
)
from asyncdynamo._lean import LeanTransport
from asyncdynamo.testing import Endpoint, config_for

pytestmark = pytest.mark.integration

ROLE_ARN = "arn:aws:iam::111111111111:role/lean-integration"


@pytest.fixture
async def dynamodb(dynamo_endpoint: Endpoint) -> AsyncIterator[LeanTransport]:
    async with LeanTransport(config_for(dynamo_endpoint)) as transport:
        yield transport


@pytest.fixture
async def table(dynamodb: LeanTransport) -> AsyncIterator[str]:
    """A fresh one-key table, deleted afterwards."""
    name = f"lean-{uuid.uuid4().hex[:12]}"
    await dynamodb.call(
        "CreateTable",
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    for _ in range(120):  # moto is ACTIVE at once; real DynamoDB takes a few seconds
        described = await dynamodb.call("DescribeTable", {"TableName": name})
        if described["Table"]["TableStatus"] == "ACTIVE":
            break
        await asyncio.sleep(0.5)
    assert isinstance(described["Table"]["CreationDateTime"], datetime)
    yield name
    await dynamodb.call("DeleteTable", {"TableName": name})


@pytest.fixture
def moto_only(dynamo_endpoint: Endpoint) -> None:
    if not dynamo_endpoint.is_moto:
        pytest.skip("needs moto's server (any role can be assumed, keys are free)")


ITEM: dict[str, Any] = {
    "pk": {"S": "order#1"},
    "blob": {"B": b"\x00\x01\xfe\xff"},
    "blobs": {"BS": [b"\x00", b"\xff\xfe"]},
    "nested": {"M": {"list": {"L": [{"B": b"deep"}, {"N": "1.50"}]}}},
    "amount": {"N": "12.5"},
}


def normalised(value: Any) -> Any:
    """The item as DynamoDB may return it: sets in any order, numbers normalised (1.50 is 1.5)."""
    if isinstance(value, dict) and len(value) == 1 and "N" in value:
        return {"N": Decimal(value["N"])}
    if isinstance(value, dict) and len(value) == 1 and "BS" in value:
        return {"BS": sorted(value["BS"])}
    if isinstance(value, dict):
        return {key: normalised(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [normalised(inner) for inner in value]
    return value


async def test_binary_attributes_round_trip_as_bytes(dynamodb: LeanTransport, table: str) -> None:
    await dynamodb.call("PutItem", {"TableName": table, "Item": ITEM})

    response = await dynamodb.call(
        "GetItem", {"TableName": table, "Key": {"pk": ITEM["pk"]}, "ConsistentRead": True}
    )

    assert normalised(response["Item"]) == normalised(ITEM)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


async def test_failed_condition_returns_the_old_item(dynamodb: LeanTransport, table: str) -> None:
    await dynamodb.call("PutItem", {"TableName": table, "Item": ITEM})

    with pytest.raises(ConditionalCheckFailedError) as raised:
        await dynamodb.call(
            "PutItem",
            {
                "TableName": table,
                "Item": {"pk": ITEM["pk"]},
                # Create-only: a second writer of the same order must not overwrite the first.
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        )

    # The old item comes back decoded (bytes, a set of bytes, Decimals), not in wire format.
    assert raised.value.item == deserialize_item(ITEM)
    assert raised.value.operation == "PutItem"


async def test_cancelled_transaction_reports_a_reason_per_action(
    dynamodb: LeanTransport, table: str
) -> None:
    await dynamodb.call("PutItem", {"TableName": table, "Item": ITEM})

    with pytest.raises(TransactionCanceledError) as raised:
        await dynamodb.call(
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "order#2"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": table,
                            "Key": {"pk": ITEM["pk"]},
                            # The order must still be unpaid for the payment to be recorded.
                            "ConditionExpression": "attribute_not_exists(amount)",
                        }
                    },
                ]
            },
        )

    assert raised.value.failed_actions == (1,)
    assert raised.value.reasons[1].code == "ConditionalCheckFailed"


async def test_missing_table_is_resource_not_found(dynamodb: LeanTransport) -> None:
    with pytest.raises(ResourceNotFoundError):
        await dynamodb.call("GetItem", {"TableName": "lean-missing", "Key": {"pk": {"S": "x"}}})


@pytest.mark.usefixtures("moto_only")
async def test_assumed_role_credentials_sign_requests(dynamo_endpoint: Endpoint) -> None:
    async with LeanTransport(config_for(dynamo_endpoint), service="sts") as sts:
        assumed = await sts.call(
            "AssumeRole",
            {"RoleArn": ROLE_ARN, "RoleSessionName": "lean", "DurationSeconds": 900},
        )
    raw = assumed["Credentials"]
    assert isinstance(raw["Expiration"], datetime)
    assert raw["Expiration"].tzinfo is not None
    assert assumed["AssumedRoleUser"]["Arn"].startswith("arn:aws:sts::111111111111:assumed-role/")
    credentials = Credentials(
        raw["AccessKeyId"], raw["SecretAccessKey"], raw["SessionToken"], raw["Expiration"]
    )

    config = config_for(dynamo_endpoint, credentials=credentials)
    async with LeanTransport(config, service="sts") as as_partner:
        identity = await as_partner.call("GetCallerIdentity", {})

    assert identity["Account"] == "111111111111"


@pytest.mark.usefixtures("moto_only")
async def test_kms_envelope_round_trip_is_bound_to_its_context(
    dynamo_endpoint: Endpoint,
) -> None:
    context = {"table": "payments", "attribute": "card"}
    async with LeanTransport(config_for(dynamo_endpoint), service="kms") as kms:
        key_id = (await kms.call("CreateKey", {"Description": "lean"}))["KeyMetadata"]["KeyId"]
        data_key = await kms.call(
            "GenerateDataKey",
            {"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context},
        )
        decrypted = await kms.call(
            "Decrypt", {"CiphertextBlob": data_key["CiphertextBlob"], "EncryptionContext": context}
        )
        encrypted = await kms.call(
            "Encrypt",
            {"KeyId": key_id, "Plaintext": b"\x00secret\xff", "EncryptionContext": context},
        )
        round_trip = await kms.call(
            "Decrypt", {"CiphertextBlob": encrypted["CiphertextBlob"], "EncryptionContext": context}
        )
        with pytest.raises(ServiceError) as raised:
            await kms.call(
                "Decrypt",
                {"CiphertextBlob": encrypted["CiphertextBlob"], "EncryptionContext": {"x": "y"}},
            )

    assert isinstance(data_key["Plaintext"], bytes)
    assert len(data_key["Plaintext"]) == 32
    assert decrypted["Plaintext"] == data_key["Plaintext"]
    assert round_trip["Plaintext"] == b"\x00secret\xff"
    assert raised.value.code == "InvalidCiphertextException"
