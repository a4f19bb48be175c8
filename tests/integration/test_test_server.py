"""The test server behaves like DynamoDB where correctness tests depend on it.

Raw boto3 calls, without asyncdynamo: these tests check the server, not the library.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotocoreConfig
from botocore.exceptions import ClientError

from asyncdynamo.testing import Endpoint

THREADS = 16
ROUNDS = 40


@pytest.fixture
def client(dynamo_endpoint: Endpoint) -> Any:
    credentials = dynamo_endpoint.credentials
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamo_endpoint.url,
        region_name=dynamo_endpoint.region,
        aws_access_key_id=credentials.access_key_id if credentials else None,
        aws_secret_access_key=credentials.secret_access_key if credentials else None,
        aws_session_token=credentials.session_token if credentials else None,
        config=BotocoreConfig(max_pool_connections=THREADS, retries={"max_attempts": 0}),
    )


@pytest.fixture
def table(client: Any, table_prefix: str) -> Iterator[str]:
    name = f"{table_prefix}server"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name)
    yield name
    client.delete_table(TableName=name)


def conditional_increment(client: Any, table: str, expected: int) -> bool:
    """Set v to expected + 1 if it is still expected; whether this call won."""
    try:
        client.update_item(
            TableName=table,
            Key={"pk": {"S": "k"}},
            UpdateExpression="SET v = :next",
            ConditionExpression="v = :expected",
            ExpressionAttributeValues={
                ":next": {"N": str(expected + 1)},
                ":expected": {"N": str(expected)},
            },
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def test_exactly_one_of_many_same_version_conditional_updates_wins(client: Any, table: str) -> None:
    client.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "0"}})
    winners = [0] * ROUNDS
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def contend() -> None:
        for expected in range(ROUNDS):
            barrier.wait()  # every thread sends the same expected version at once
            try:
                won = conditional_increment(client, table, expected)
            except BaseException as exc:  # reported below; the barrier must keep going
                won = False
                with lock:
                    errors.append(exc)
            with lock:
                winners[expected] += won
            barrier.wait()

    # An in-process server switches threads far more often this way, so a check-then-write
    # race inside it shows up in a few rounds instead of in one run out of many.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=contend) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch_interval)
    assert errors == []
    assert {version: wins for version, wins in enumerate(winners) if wins != 1} == {}
    stored = client.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True)
    assert stored["Item"]["v"] == {"N": str(ROUNDS)}


def add_one(table: str, amount: int = 1) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "k"}},
            "UpdateExpression": "ADD n :amount",
            "ExpressionAttributeValues": {":amount": {"N": str(amount)}},
        }
    }


def stored_n(client: Any, table: str) -> str:
    item = client.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
    value: str = item["n"]["N"]
    return value


def test_a_repeated_transaction_token_applies_once(client: Any, table: str) -> None:
    token = uuid.uuid4().hex
    for _ in range(3):
        client.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken=token)
    assert stored_n(client, table) == "1"
    client.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken=uuid.uuid4().hex)
    assert stored_n(client, table) == "2"


def test_a_token_reused_with_other_parameters_is_a_mismatch(client: Any, table: str) -> None:
    token = uuid.uuid4().hex
    client.transact_write_items(TransactItems=[add_one(table)], ClientRequestToken=token)
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=[add_one(table, 2)], ClientRequestToken=token)
    assert raised.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert stored_n(client, table) == "1"
