"""SnapStart against the test server: the runtime's hooks, called as Lambda calls them.

A keep-alive proxy in front of the server (moto closes every connection itself) counts the
client's TCP connections and records which access key signed each request, so the tests see
what actually went over the wire.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace

import pytest

from asyncdynamo import (
    Config,
    LambdaConfig,
    LambdaDB,
    LambdaEnvironment,
    LambdaRunner,
    new_lambda_optimized,
)
from asyncdynamo.testing import Endpoint
from tests.integration.keepalive_proxy import KeepAliveProxy
from tests.models import Note
from tests.unit.test_snapstart import FakeRuntime

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(dynamo_endpoint: Endpoint) -> Iterator[KeepAliveProxy]:
    if dynamo_endpoint.url is None or not dynamo_endpoint.url.startswith("http://"):
        pytest.skip("the proxy needs a plain-http endpoint")
    with KeepAliveProxy(dynamo_endpoint.url) as running:
        yield running


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> FakeRuntime:
    fake = FakeRuntime()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", fake.module)
    return fake


@pytest.fixture
def runner() -> Iterator[LambdaRunner]:
    running = LambdaRunner()
    yield running
    running.run(LambdaDB.reset_process_instance())
    running.close()


@pytest.fixture
async def notes_table(make_tables: Callable[..., Awaitable[list[str]]]) -> None:
    await make_tables(Note)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.01)  # polling a condition set by the proxy's thread, with a bound


def process_db(runner: LambdaRunner, config: Config) -> LambdaDB:
    lambda_config = LambdaConfig(base_config=config, environment=LambdaEnvironment())
    return runner.run(new_lambda_optimized(lambda_config))


@pytest.mark.usefixtures("notes_table")
def test_no_connection_from_before_the_snapshot_is_used_after_the_restore(
    dynamo_config: Config, proxy: KeepAliveProxy, runtime: FakeRuntime, runner: LambdaRunner
) -> None:
    db = process_db(runner, replace(dynamo_config, endpoint_url=proxy.url))
    runner.run(db.put(Note(note_id="n1", text="init")))  # a connection opened during init
    runner.run(db.get(Note, "n1"))
    assert proxy.connections_seen == 1  # kept alive in the pool and used again
    runtime.snapshot()
    wait_for(lambda: proxy.open_connections == 0, "the pooled connection is closed")
    runtime.restore()
    found = runner.run(db.get(Note, "n1"))
    assert found is not None and found.text == "init"
    assert proxy.connections_seen == 2  # a new connection, never the one from the snapshot


@pytest.mark.usefixtures("notes_table")
def test_credentials_are_read_again_after_the_restore(
    dynamo_config: Config,
    proxy: KeepAliveProxy,
    runtime: FakeRuntime,
    runner: LambdaRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDBEFORESNAPSHOT")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "before-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    config = replace(dynamo_config, endpoint_url=proxy.url, credentials=None)
    db = process_db(runner, config)
    runner.run(db.get(Note, "n1"))
    runtime.snapshot()
    # The restored environment has other credentials than the one the snapshot was taken in.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDAFTERRESTORE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "after-secret")
    runtime.restore()
    runner.run(db.get(Note, "n1"))
    assert proxy.access_keys_seen == ["AKIDBEFORESNAPSHOT", "AKIDAFTERRESTORE"]
