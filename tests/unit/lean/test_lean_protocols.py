"""Request encoding, response decoding and error translation for JSON and query protocols."""

from __future__ import annotations

import binascii
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from asyncdynamo._errors import (
    AccessDeniedError,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    DecryptionFailedError,
    InternalServerError,
    SerializationError,
    ServiceError,
    ServiceValidationError,
    ThrottlingError,
    TransactionCanceledError,
)
from asyncdynamo._lean._http import Response
from asyncdynamo._lean._protocols import decode_attribute_binaries, protocol_for

DYNAMODB = protocol_for("dynamodb")
KMS = protocol_for("kms")
STS = protocol_for("sts")


def json_response(
    document: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(status, headers or {}, json.dumps(document).encode())


def test_dynamodb_request_has_target_and_base64_binaries_at_any_depth() -> None:
    params = {
        "TableName": "t",
        "Item": {
            "b": {"B": b"\x00\xff"},
            "bs": {"BS": [b"a", bytearray(b"b")]},
            "m": {"M": {"l": {"L": [{"B": memoryview(b"deep")}]}}},
            "n": {"N": "1.5"},
        },
    }

    body, headers = DYNAMODB.encode("PutItem", params)

    assert headers == {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
    }
    assert json.loads(body)["Item"] == {
        "b": {"B": "AP8="},
        "bs": {"BS": ["YQ==", "Yg=="]},
        "m": {"M": {"l": {"L": [{"B": "ZGVlcA=="}]}}},
        "n": {"N": "1.5"},
    }


def test_sets_are_sent_as_lists() -> None:
    body, _ = DYNAMODB.encode("PutItem", {"Item": {"ss": {"SS": {"only"}}}})

    assert json.loads(body) == {"Item": {"ss": {"SS": ["only"]}}}


@pytest.mark.parametrize("bad", [float("nan"), object()])
def test_unencodable_params_raise_serialization_error(bad: object) -> None:
    with pytest.raises(SerializationError, match="PutItem"):
        DYNAMODB.encode("PutItem", {"Item": {"x": bad}})


def test_dynamodb_response_binaries_become_bytes_and_metadata_is_added() -> None:
    response = json_response(
        {
            "Item": {
                "B": {"M": {"B": {"B": "AP8="}, "BS": {"BS": ["YQ=="]}}},
                "AttributeType": {"S": "B"},
            }
        },
        headers={"x-amzn-requestid": "req-1"},
    )

    document = DYNAMODB.decode("GetItem", response)

    assert document["Item"] == {
        "B": {"M": {"B": {"B": b"\x00\xff"}, "BS": {"BS": [b"a"]}}},
        "AttributeType": {"S": "B"},
    }
    assert document["ResponseMetadata"]["RequestId"] == "req-1"
    assert document["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_walk_leaves_non_binary_values_alone() -> None:
    document: dict[str, Any] = {"Items": [{"s": {"S": "B"}}, {"l": {"L": [{"N": "1"}]}}]}

    decode_attribute_binaries(document)

    assert document == {"Items": [{"s": {"S": "B"}}, {"l": {"L": [{"N": "1"}]}}]}


def test_timestamps_become_aware_datetimes_but_item_attributes_do_not() -> None:
    response = json_response(
        {
            "Table": {
                "CreationDateTime": 1795578825.5,
                "ProvisionedThroughput": {"LastIncreaseDateTime": 0, "ReadCapacityUnits": 5},
                "ItemCount": 3,
            },
            "Item": {"CreationDateTime": {"N": "1795578825"}},
        }
    )

    document = DYNAMODB.decode("DescribeTable", response)

    assert document["Table"]["CreationDateTime"] == datetime(
        2026, 11, 25, 3, 53, 45, 500000, tzinfo=UTC
    )
    assert document["Table"]["ProvisionedThroughput"] == {
        "LastIncreaseDateTime": datetime(1970, 1, 1, tzinfo=UTC),
        "ReadCapacityUnits": 5,
    }
    assert document["Table"]["ItemCount"] == 3
    assert document["Item"] == {"CreationDateTime": {"N": "1795578825"}}


def test_matching_crc32_is_accepted_and_mismatch_is_a_retryable_failure() -> None:
    body = b'{"Count":0}'
    good = Response(200, {"x-amz-crc32": str(binascii.crc32(body))}, body)
    bad = Response(200, {"x-amz-crc32": str(binascii.crc32(body) ^ 1)}, body)

    assert DYNAMODB.decode("Query", good)["Count"] == 0
    with pytest.raises(ConnectionFailedError, match="CRC32") as raised:
        DYNAMODB.decode("Query", bad)
    assert raised.value.retryable


def test_non_json_success_body_is_a_connection_failure() -> None:
    with pytest.raises(ConnectionFailedError, match="not JSON"):
        DYNAMODB.decode("GetItem", Response(200, {}, b"<html>"))


def test_conditional_check_failure_carries_the_old_item_with_bytes() -> None:
    response = json_response(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
            "message": "The conditional request failed",
            "Item": {"pk": {"S": "a"}, "blob": {"B": "AP8="}},
        },
        status=400,
    )

    with pytest.raises(ConditionalCheckFailedError) as raised:
        DYNAMODB.decode("PutItem", response)

    error = raised.value
    assert (error.code, error.status, error.operation) == (
        "ConditionalCheckFailedException",
        400,
        "PutItem",
    )
    assert error.message == "The conditional request failed"
    assert error.item == {"pk": "a", "blob": b"\x00\xff"}  # decoded for the caller


def test_transaction_cancellation_carries_reasons() -> None:
    response = json_response(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled",
            "CancellationReasons": [
                {"Code": "None"},
                {
                    "Code": "ConditionalCheckFailed",
                    "Message": "failed",
                    "Item": {"b": {"B": "YQ=="}},
                },
            ],
        },
        status=400,
    )

    with pytest.raises(TransactionCanceledError) as raised:
        DYNAMODB.decode("TransactWriteItems", response)

    assert raised.value.failed_actions == (1,)
    assert raised.value.reasons[1].item == {"b": {"B": b"a"}}
    assert raised.value.message == "Transaction cancelled"


def test_error_code_falls_back_to_the_error_type_header() -> None:
    response = Response(
        400, {"x-amzn-errortype": "ValidationException:http://internal.amazon.com/"}, b""
    )

    with pytest.raises(ServiceValidationError):
        DYNAMODB.decode("Query", response)


def test_error_type_in_the_body_loses_its_namespace_and_url_suffix() -> None:
    document = {
        "__type": "com.amazon.coral.validate#ValidationException:http://internal.amazon.com/",
        "message": "bad key",
    }

    with pytest.raises(ServiceValidationError) as raised:
        DYNAMODB.decode("GetItem", json_response(document, status=400))
    assert raised.value.code == "ValidationException"


def test_throttling_is_retryable() -> None:
    response = json_response(
        {"__type": "ProvisionedThroughputExceededException", "message": "slow down"}, status=400
    )

    with pytest.raises(ThrottlingError) as raised:
        DYNAMODB.decode("PutItem", response)
    assert raised.value.retryable


def test_html_5xx_from_a_proxy_is_an_internal_server_error() -> None:
    with pytest.raises(InternalServerError, match="502"):
        DYNAMODB.decode("GetItem", Response(502, {}, b"<html>Bad Gateway</html>"))


def test_unknown_4xx_error_is_a_plain_service_error() -> None:
    with pytest.raises(ServiceError) as raised:
        KMS.decode("Decrypt", json_response({"__type": "SomethingNewException"}, 400))
    assert type(raised.value) is ServiceError
    assert raised.value.code == "SomethingNewException"


def test_kms_decryption_failure_is_typed() -> None:
    with pytest.raises(DecryptionFailedError) as raised:
        KMS.decode("Decrypt", json_response({"__type": "InvalidCiphertextException"}, 400))
    assert raised.value.code == "InvalidCiphertextException"


def test_kms_request_and_blobs_round_trip_as_bytes() -> None:
    body, headers = KMS.encode(
        "Decrypt", {"CiphertextBlob": b"\x01\x02", "EncryptionContext": {"k": "v"}}
    )
    response = json_response({"Plaintext": "AP8=", "KeyId": "arn:key", "CiphertextBlob": "YQ=="})

    document = KMS.decode("Decrypt", response)

    assert headers["X-Amz-Target"] == "TrentService.Decrypt"
    assert headers["Content-Type"] == "application/x-amz-json-1.1"
    assert json.loads(body) == {"CiphertextBlob": "AQI=", "EncryptionContext": {"k": "v"}}
    assert (document["Plaintext"], document["CiphertextBlob"], document["KeyId"]) == (
        b"\x00\xff",
        b"a",
        "arn:key",
    )


def test_sts_request_is_form_encoded_with_members_flattened() -> None:
    body, headers = STS.encode(
        "AssumeRole",
        {
            "RoleArn": "arn:aws:iam::111111111111:role/x",
            "RoleSessionName": "a b",
            "DurationSeconds": 900,
            "Tags": [{"Key": "k", "Value": "v/1"}],
            "TransitiveTagKeys": [],
        },
    )

    assert headers == {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    assert body.decode().split("&") == [
        "Action=AssumeRole",
        "Version=2011-06-15",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fx",
        "RoleSessionName=a%20b",
        "DurationSeconds=900",
        "Tags.member.1.Key=k",
        "Tags.member.1.Value=v%2F1",
        "TransitiveTagKeys=",
    ]


ASSUME_ROLE_XML = b"""<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLE</AccessKeyId>
      <SecretAccessKey>secret</SecretAccessKey>
      <SessionToken>token</SessionToken>
      <Expiration>2026-11-25T04:45:01.123Z</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
      <Arn>arn:aws:sts::111111111111:assumed-role/x/session</Arn>
    </AssumedRoleUser>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>req-2</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""


def test_sts_xml_response_becomes_botocore_shaped_dict() -> None:
    document = STS.decode("AssumeRole", Response(200, {}, ASSUME_ROLE_XML))

    assert document["Credentials"] == {
        "AccessKeyId": "ASIAEXAMPLE",
        "SecretAccessKey": "secret",
        "SessionToken": "token",
        "Expiration": datetime(2026, 11, 25, 4, 45, 1, 123000, tzinfo=UTC),
    }
    assert document["AssumedRoleUser"]["Arn"] == "arn:aws:sts::111111111111:assumed-role/x/session"
    assert document["PackedPolicySize"] == 6
    assert document["ResponseMetadata"]["RequestId"] == "req-2"


def test_sts_member_lists_become_lists() -> None:
    xml = b"""<ListResponse><ListResult><Items><member>a</member><member>b</member></Items>
    </ListResult></ListResponse>"""

    assert STS.decode("List", Response(200, {}, xml))["Items"] == ["a", "b"]


def test_sts_xml_error_is_translated() -> None:
    xml = b"""<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
      <Error><Type>Sender</Type><Code>AccessDenied</Code>
      <Message>not authorized to perform sts:AssumeRole</Message></Error>
      <RequestId>req-3</RequestId></ErrorResponse>"""

    with pytest.raises(AccessDeniedError) as raised:
        STS.decode("AssumeRole", Response(403, {}, xml))

    assert raised.value.code == "AccessDenied"
    assert raised.value.message == "not authorized to perform sts:AssumeRole"
    assert raised.value.status == 403


def test_sts_error_without_xml_keeps_the_status() -> None:
    with pytest.raises(InternalServerError, match="503"):
        STS.decode("AssumeRole", Response(503, {}, b"Service Unavailable"))


def test_sts_success_without_xml_is_a_connection_failure() -> None:
    with pytest.raises(ConnectionFailedError, match="not XML"):
        STS.decode("AssumeRole", Response(200, {}, b"{}"))
