"""Shared fixtures of the reliability scenarios, and the session-wide watch for card numbers.

The payments fixtures (tables, gateway, processor) come from the payments tests. Every
reliability test runs under one :class:`~tests.reliability.pan_watch.PanWatch`: if any log record,
exception, audit record, span or failed test report of the session holds a card number, the
session fails at its end (an error on the last test, naming where each number was found).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.payments.conftest import gateway, payment_tables, processor
from tests.reliability.pan_watch import PanWatch

__all__ = ["gateway", "pan_watch", "payment_tables", "processor"]

_session_watch: list[PanWatch] = []


@pytest.fixture(scope="session", autouse=True)
def pan_watch() -> Iterator[PanWatch]:
    """The session's watch; its ``tracer_provider`` is the one traced scenarios pass to LambdaDB."""
    with PanWatch() as watch:
        _session_watch.append(watch)
        yield watch
        _session_watch.clear()
        found = watch.findings()
    assert found == [], f"card numbers in the reliability scenarios' output: {found}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if _session_watch and report.failed:
        _session_watch[0].search(f"report of {item.nodeid}", [report.longreprtext])
    return report
