"""Many tasks reaching a partner's credential expiry together assume the role once.

The partner's credentials come from moto's STS through the fault proxy, which slows AssumeRole
down so every task arrives while the refresh is in flight. The clock is moved into the advisory
window (credentials still valid) or past the expiry (every request must wait for new ones).
moto's STS dates its credentials by the real clock; ``OnClock`` moves their expiration onto the
test's clock, as a real STS would date them on a real clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    Config,
    MultiAccountDB,
    ResourceNotFoundError,
    Transport,
    create_transport,
)
from asyncdynamo.testing import Delay, FaultProxy
from tests.integration.test_multi_account import ACME, CountingTransport, FakeClock, credentials_of
from tests.models import Note
from tests.reliability.soak import scaled

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("moto_only")]

TASKS = scaled(200, at_most=2000)


@pytest.fixture
def moto_only(dynamo_config: Config) -> None:
    if dynamo_config.sts_endpoint_url is None:
        pytest.skip("needs moto's STS (any role can be assumed)")


class OnClock:
    """STS answers with the credentials' lifetime counted from ``clock`` instead of real time."""

    def __init__(self, inner: Transport, clock: FakeClock) -> None:
        self.inner = inner
        self.clock = clock

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        response = await self.inner.call(operation, params)
        raw = response["Credentials"]
        expiration = raw["Expiration"]
        if isinstance(expiration, str):
            expiration = datetime.fromisoformat(expiration.replace("Z", "+00:00"))
        raw["Expiration"] = expiration + (self.clock.now - datetime.now(UTC))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sts(dynamo_config: Config, fault_proxy: FaultProxy, clock: FakeClock) -> CountingTransport:
    fault_proxy.inject(Delay(0.2), operation="AssumeRole")
    proxied = replace(dynamo_config, sts_endpoint_url=fault_proxy.url)
    return CountingTransport(OnClock(create_transport(proxied, service="sts"), clock))


@pytest.fixture
async def multi(
    db: DB, sts: CountingTransport, clock: FakeClock
) -> AsyncIterator[tuple[MultiAccountDB, FakeClock]]:
    async with MultiAccountDB(db, [ACME], sts=sts, clock=clock) as mdb:
        yield mdb, clock


@pytest.mark.parametrize("seconds", [700, 1000], ids=["advisory-window", "expired"])
async def test_tasks_reaching_credential_expiry_together_assume_the_role_once(
    multi: tuple[MultiAccountDB, FakeClock],
    sts: CountingTransport,
    fault_proxy: FaultProxy,
    seconds: int,
) -> None:
    mdb, clock = multi
    acme = await mdb.partner("acme")
    first = credentials_of(acme).current
    assert first is not None and sts.operations == ["AssumeRole"]

    clock.advance(seconds)  # a 900 s session: advisory window at 675 s, expired at 900 s

    async def call() -> None:
        partner = await mdb.partner("acme")
        with pytest.raises(ResourceNotFoundError):  # any request asks for credentials
            await partner.get(Note, "missing")

    await asyncio.gather(*(call() for _ in range(TASKS)))

    current = credentials_of(acme).current
    print(f"\ncredential expiry ({seconds} s), {TASKS} tasks: STS calls {sts.operations}")
    assert sts.operations == ["AssumeRole", "AssumeRole"]
    assert fault_proxy.counts("AssumeRole").forwarded == 2
    assert current is not None and current.access_key_id != first.access_key_id
