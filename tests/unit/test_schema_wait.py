"""Waiting for a table never polls past the caller's deadline."""

from __future__ import annotations

import asyncio

import pytest

from asyncdynamo import DeadlineExceededError, ResourceNotFoundError, Schema, deadline_scope
from tests.fakes import FakeTransport, fake_db
from tests.models import Note


async def test_waiting_for_a_table_stops_before_the_deadline() -> None:
    creating = {"Table": {"TableStatus": "CREATING"}}
    transport = FakeTransport(handler=lambda operation, params: creating)
    db = fake_db(transport)
    deadline = asyncio.get_running_loop().time() + 0.05  # shorter than one poll interval
    with deadline_scope(deadline), pytest.raises(DeadlineExceededError) as caught:
        await db.schema.wait_active("t-orders")
    assert caught.value.operation == "DescribeTable"
    assert transport.operations() == ["DescribeTable"]


async def test_waiting_returns_once_table_and_indexes_are_active() -> None:
    answers = [
        {
            "Table": {
                "TableStatus": "ACTIVE",
                "GlobalSecondaryIndexes": [{"IndexStatus": "CREATING"}],
            }
        },
        {"Table": {"TableStatus": "ACTIVE", "GlobalSecondaryIndexes": [{"IndexStatus": "ACTIVE"}]}},
    ]
    transport = FakeTransport(script=list(answers))
    schema = Schema(fake_db(transport), poll_interval=0.0)  # no clock to wait on
    await schema.wait_active("t-orders")
    assert transport.operations() == ["DescribeTable", "DescribeTable"]


async def test_delete_waits_until_the_table_is_gone() -> None:
    deleting = {"Table": {"TableStatus": "DELETING"}}
    gone = ResourceNotFoundError("Requested resource not found", operation="DescribeTable")
    transport = FakeTransport(script=[{"TableDescription": deleting["Table"]}, deleting, gone])
    schema = Schema(fake_db(transport), poll_interval=0.0)
    await schema.delete(Note)
    assert transport.operations() == ["DeleteTable", "DescribeTable", "DescribeTable"]


async def test_delete_without_waiting_sends_only_the_delete() -> None:
    transport = FakeTransport(script=[{"TableDescription": {"TableStatus": "DELETING"}}])
    await fake_db(transport).schema.delete(Note, wait=False)
    assert transport.operations() == ["DeleteTable"]


async def test_waiting_for_a_deletion_stops_before_the_deadline() -> None:
    deleting = {"Table": {"TableStatus": "DELETING"}}
    transport = FakeTransport(handler=lambda operation, params: deleting)
    db = fake_db(transport)
    deadline = asyncio.get_running_loop().time() + 0.05  # shorter than one poll interval
    with deadline_scope(deadline), pytest.raises(DeadlineExceededError):
        await db.schema.delete(Note)
    assert transport.operations() == ["DeleteTable", "DescribeTable"]
