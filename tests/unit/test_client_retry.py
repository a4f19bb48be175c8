"""The client's retry policy, deadline and capacity accounting, with a scripted transport."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from asyncdynamo import (
    ConditionalCheckFailedError,
    ConnectionFailedError,
    DeadlineExceededError,
    RetryPolicy,
    ThrottlingError,
    deadline_scope,
)
from asyncdynamo._client import Client, track_capacity


class Scripted:
    """Answers each call with the next scripted response or raises the next scripted error."""

    def __init__(self, *outcomes: Mapping[str, Any] | BaseException) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, dict(params)))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return dict(outcome)

    async def aclose(self) -> None:
        pass


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def throttled() -> ThrottlingError:
    return ThrottlingError("slow down", code="ThrottlingException", operation="GetItem")


async def test_retryable_errors_are_retried_until_success() -> None:
    transport = Scripted(throttled(), ConnectionFailedError("reset"), {"Item": {}})
    sleeps = Sleeps()
    client = Client(transport, RetryPolicy(max_attempts=5), sleep=sleeps, rng=lambda: 1.0)
    assert await client.call("GetItem", {"TableName": "t"}) == {"Item": {}}
    assert len(transport.calls) == 3
    assert len(sleeps.delays) == 2


async def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base=0.1, cap=0.5)
    assert [policy.backoff(n, lambda: 1.0) for n in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(2, lambda: 0.5) == pytest.approx(0.2)


async def test_non_retryable_errors_are_raised_at_once() -> None:
    transport = Scripted(ConditionalCheckFailedError("no"))
    sleeps = Sleeps()
    client = Client(transport, RetryPolicy(), sleep=sleeps)
    with pytest.raises(ConditionalCheckFailedError):
        await client.call("PutItem", {})
    assert len(transport.calls) == 1
    assert sleeps.delays == []


async def test_attempts_are_bounded_and_the_last_error_is_raised() -> None:
    transport = Scripted(*(throttled() for _ in range(3)))
    client = Client(transport, RetryPolicy(max_attempts=3), sleep=Sleeps())
    with pytest.raises(ThrottlingError):
        await client.call("GetItem", {})
    assert len(transport.calls) == 3


async def test_no_backoff_sleep_is_started_that_would_end_after_the_deadline() -> None:
    transport = Scripted(throttled(), {"Item": {}})
    sleeps = Sleeps()
    client = Client(transport, RetryPolicy(base=10.0, cap=10.0), sleep=sleeps, rng=lambda: 1.0)
    deadline = asyncio.get_running_loop().time() + 1.0
    with deadline_scope(deadline), pytest.raises(ThrottlingError):
        await client.call("GetItem", {})
    assert sleeps.delays == []
    assert len(transport.calls) == 1


async def test_a_passed_deadline_fails_fast_without_sending() -> None:
    transport = Scripted({"Item": {}})
    client = Client(transport)
    with (
        deadline_scope(asyncio.get_running_loop().time() - 0.01),
        pytest.raises(DeadlineExceededError) as caught,
    ):
        await client.call("GetItem", {})
    assert transport.calls == []
    assert caught.value.operation == "GetItem"


async def test_a_hanging_call_is_cancelled_at_the_deadline() -> None:
    started = asyncio.Event()

    class Hanging(Scripted):
        async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
            started.set()
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    client = Client(Hanging())
    with (
        deadline_scope(asyncio.get_running_loop().time() + 0.05),
        pytest.raises(DeadlineExceededError),
    ):
        await client.call("GetItem", {})
    assert started.is_set()


async def test_nested_deadline_scopes_keep_the_earlier_deadline() -> None:
    from asyncdynamo import current_deadline

    with deadline_scope(10.0):
        with deadline_scope(20.0):
            assert current_deadline() == 10.0
        with deadline_scope(5.0):
            assert current_deadline() == 5.0
    assert current_deadline() is None


async def test_capacity_is_requested_and_recorded_only_while_tracking() -> None:
    capacity = {"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}}
    transport = Scripted(
        {}, capacity, {"ConsumedCapacity": [{"TableName": "t", "CapacityUnits": 0.5}]}
    )
    client = Client(transport)
    await client.call("PutItem", {"TableName": "t"})
    assert "ReturnConsumedCapacity" not in transport.calls[0][1]
    with track_capacity() as used:
        await client.call("PutItem", {"TableName": "t"})
        await client.call("BatchGetItem", {})
    assert transport.calls[1][1]["ReturnConsumedCapacity"] == "INDEXES"
    assert (used.write_units, used.read_units, used.calls) == (1.0, 0.5, 2)
    assert used.by_table == {"t": 1.5}


async def test_a_transports_own_timeout_error_is_not_reported_as_the_deadline() -> None:
    transport = Scripted(TimeoutError("socket read timed out"))
    client = Client(transport, RetryPolicy(max_attempts=1))
    deadline = asyncio.get_running_loop().time() + 60
    with deadline_scope(deadline), pytest.raises(TimeoutError) as raised:
        await client.call("GetItem", {"TableName": "t"})
    assert not isinstance(raised.value, DeadlineExceededError)


async def test_cancellation_is_never_retried() -> None:
    transport = Scripted(asyncio.CancelledError(), {"Item": {}})
    sleeps = Sleeps()
    client = Client(transport, RetryPolicy(max_attempts=5), sleep=sleeps)
    with pytest.raises(asyncio.CancelledError):
        await client.call("GetItem", {"TableName": "t"})
    assert len(transport.calls) == 1
    assert sleeps.delays == []
