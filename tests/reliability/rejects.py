"""Shared check for bad-input tests: the operation fails with a typed error, nothing is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from asyncdynamo import DB
from tests.fakes import FakeTransport, fake_db

Operation = Callable[[DB], Awaitable[Any]]
Case = tuple[Operation, type[Exception], str]


async def assert_rejected_before_sending(case: Case) -> None:
    """Run ``operation`` on a DB whose transport records calls: it raises, and none was made."""
    operation, error, message = case
    transport = FakeTransport()
    async with fake_db(transport) as db:
        with pytest.raises(error, match=message):
            await operation(db)
    assert transport.calls == []
