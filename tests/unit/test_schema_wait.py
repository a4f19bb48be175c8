"""Waiting for a table never polls past the caller's deadline."""

from __future__ import annotations

import asyncio

import pytest

from asyncdynamo import DeadlineExceededError, Schema, deadline_scope
from tests.fakes import FakeTransport, fake_db


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
