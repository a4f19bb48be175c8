"""SnapStart hooks without a server: registration, order, uniqueness after a restore."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from asyncdynamo import (
    Config,
    Credentials,
    LambdaConfig,
    LambdaDB,
    LambdaEnvironment,
    LambdaRunner,
    MultiAccountDB,
    RetryPolicy,
    ThrottlingError,
    TransportKind,
    _ops,
    _outcome,
    new_lambda_optimized,
)
from asyncdynamo._client import Client
from asyncdynamo._lean import LeanTransport
from asyncdynamo._runner import begin_invocation, invocation_count
from asyncdynamo._spec import WRITE_TOKEN_ATTRIBUTE
from tests.encryption_models import Card
from tests.fakes import FakeTransport
from tests.kms_fake import FakeKms, fake_kms_client
from tests.models import Note
from tests.unit.test_multi_account import ACME, BASE_CONFIG, FakeSts, NoNetwork

LEAN = Config(
    region="us-east-1",
    transport=TransportKind.LEAN,
    endpoint_url="http://127.0.0.1:9",  # never contacted
    credentials=Credentials("AKIDEXAMPLE", "secret"),
)


class FakeRuntime:
    """Stands in for Lambda's ``snapshot_restore_py``: records hooks, runs them as Lambda does."""

    def __init__(self) -> None:
        self.before: list[Callable[[], None]] = []
        self.after: list[Callable[[], None]] = []
        self.module = types.ModuleType("snapshot_restore_py")
        self.module.register_before_snapshot = self.before.append  # type: ignore[attr-defined]
        self.module.register_after_restore = self.after.append  # type: ignore[attr-defined]

    def snapshot(self) -> None:
        for hook in reversed(self.before):
            hook()

    def restore(self) -> None:
        for hook in self.after:
            hook()


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


def lean_lambda_config() -> LambdaConfig:
    return LambdaConfig(base_config=LEAN, environment=LambdaEnvironment())


def test_the_process_db_registers_its_hooks_with_the_runtime(
    runtime: FakeRuntime, runner: LambdaRunner
) -> None:
    runner.run(new_lambda_optimized(lean_lambda_config()))
    assert len(runtime.before) == 1
    assert len(runtime.after) == 1


def test_without_the_runtime_module_nothing_is_registered(
    monkeypatch: pytest.MonkeyPatch, runner: LambdaRunner
) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import raises ImportError
    db = runner.run(new_lambda_optimized(lean_lambda_config()))
    assert db.client is not None


def test_runtime_hooks_close_the_client_and_build_a_new_one_on_the_containers_loop(
    runtime: FakeRuntime, runner: LambdaRunner
) -> None:
    db = runner.run(new_lambda_optimized(lean_lambda_config()))
    before = db.client
    transport = before.transport
    assert isinstance(transport, LeanTransport)
    runtime.snapshot()  # called synchronously, between init and the first invocation
    assert transport._closed
    assert db._client is None
    runtime.restore()
    after = db.client
    assert after is not before
    assert after.transport is not transport


async def test_a_transport_passed_in_is_left_to_its_owner() -> None:
    transport = FakeTransport()
    db = LambdaDB(
        LambdaConfig(base_config=LEAN, environment=LambdaEnvironment()), transport=transport
    )
    client = db.client
    await db.before_snapshot()
    await db.after_restore()
    assert not transport.closed
    assert db.client is client


async def test_added_hooks_run_newest_first_before_and_oldest_first_after() -> None:
    db = LambdaDB(lean_lambda_config())
    seen: list[str] = []

    async def async_before() -> None:
        seen.append(f"async before, client open: {db._client is not None}")

    db.add_snapshot_hooks(before_snapshot=lambda: seen.append("first before"))
    db.add_snapshot_hooks(before_snapshot=async_before, after_restore=lambda: seen.append("a1"))
    db.add_snapshot_hooks(
        after_restore=lambda: seen.append(f"a2, client: {db._client is not None}")
    )
    db.client  # noqa: B018
    await db.before_snapshot()
    await db.after_restore()
    assert seen == [
        "async before, client open: True",  # hooks run before the DB closes its client
        "first before",
        "a1",
        "a2, client: True",  # ...and after it has a new one
    ]
    await db.aclose()


async def test_a_deadline_view_registers_and_runs_its_parents_hooks() -> None:
    db = LambdaDB(lean_lambda_config())
    seen: list[str] = []
    view = db.with_lambda_timeout(None)
    view.add_snapshot_hooks(after_restore=lambda: seen.append("restored"))
    await db.after_restore()
    assert seen == ["restored"]
    await db.aclose()


async def test_the_first_invocation_after_a_restore_is_not_a_warm_start() -> None:
    db = LambdaDB(lean_lambda_config())
    begin_invocation("primed-during-init-1", new=True)
    begin_invocation("primed-during-init-2", new=True)
    assert db.is_warm_start()
    await db.after_restore()
    assert invocation_count() == 0
    begin_invocation("first-after-restore", new=True)
    assert not db.is_warm_start()
    await db.aclose()


async def restored_copy(
    db: LambdaDB, snapshot_random: object, snapshot_prefix: str
) -> tuple[float, str]:
    """One execution environment restored from the snapshot: the same memory as every other."""
    random.setstate(snapshot_random)  # type: ignore[arg-type]
    _outcome._prefix = snapshot_prefix
    _outcome._counter = itertools.count(7)
    await db.after_restore()
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    throttled = ThrottlingError("slow down", code="ThrottlingException", operation="GetItem")
    client = Client(FakeTransport([throttled, {}]), RetryPolicy(), sleep=sleep)
    await client.call("GetItem", {"TableName": "t"})
    await db.put(Note(note_id="n1"))
    last = db.client.transport
    assert isinstance(last, FakeTransport)
    token = last.calls[-1].params["Item"][WRITE_TOKEN_ATTRIBUTE]["S"]
    return sleeps[0], token


async def test_two_copies_restored_from_one_snapshot_draw_different_jitter_and_tokens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_outcome, "_counter", _outcome._counter)  # restored afterwards
    monkeypatch.setattr(_outcome, "_prefix", _outcome._prefix)
    transport = FakeTransport()
    db = LambdaDB(lean_lambda_config(), transport=transport)
    random.seed(2024)
    snapshot_random: Any = random.getstate()
    snapshot_prefix = _outcome.new_token() and _outcome._prefix  # drawn during init
    first = await restored_copy(db, snapshot_random, snapshot_prefix)
    second = await restored_copy(db, snapshot_random, snapshot_prefix)
    assert first[0] != second[0]
    assert first[1] != second[1]
    assert not first[1].startswith(snapshot_prefix)


async def test_partner_credentials_are_dropped_before_the_snapshot() -> None:
    sts = FakeSts()
    base = LambdaDB(
        LambdaConfig(base_config=BASE_CONFIG, environment=LambdaEnvironment()),
        transport=NoNetwork(),
    )
    async with MultiAccountDB(base, [ACME], sts=sts) as multi:
        acme = await multi.partner("acme")
        provider = acme.config.credentials_provider
        assert provider is not None
        assert (await provider()).access_key_id == "ASIA1"
        connected = acme.client
        await base.before_snapshot()
        assert acme._client is None  # its connections are closed; the DB stays usable
        assert isinstance(connected.transport, LeanTransport) and connected.transport._closed
        await base.after_restore()
        assert (await provider()).access_key_id == "ASIA2"  # the role is assumed again
        assert len(sts.role_arns) == 2


async def test_kms_data_keys_are_wiped_and_dropped_before_the_snapshot() -> None:
    kms = FakeKms()
    stored: dict[str, Any] = {}

    def table(operation: str, params: dict[str, Any]) -> dict[str, Any]:
        if operation == "PutItem":
            stored.update(params["Item"])
            return {}
        return {"Item": stored}

    db = LambdaDB(
        LambdaConfig(
            base_config=replace(LEAN, kms_key_id="alias/test"), environment=LambdaEnvironment()
        ),
        transport=FakeTransport(handler=table),
    )
    client, kms_transport = fake_kms_client(kms)
    db._crypto_state["kms"] = client
    await db.put(Card(card_id="k1", pan="4111111111111111", holder="Ada"))
    engine = db._crypto_state["engine"]
    cached = [
        entry for cache in (engine.sealing, engine.opening) for entry in cache._entries.values()
    ]
    assert cached
    await db.before_snapshot()
    assert db._crypto_state == {}
    assert all(entry.material == bytearray(len(entry.material)) for entry in cached)  # wiped
    assert kms_transport.closed


_FRESH_PROCESS = """
import sys, types
hooks = []
runtime = types.ModuleType("snapshot_restore_py")
runtime.register_before_snapshot = hooks.append
runtime.register_after_restore = lambda hook: None
sys.modules["snapshot_restore_py"] = runtime
from asyncdynamo import Config, Credentials, LambdaConfig, LambdaEnvironment, TransportKind
from asyncdynamo import new_lambda_optimized, run_in_lambda_loop
config = Config(
    region="us-east-1", endpoint_url="http://127.0.0.1:9", transport=TransportKind.LEAN,
    credentials=Credentials("AKIDEXAMPLE", "secret"),
)
run_in_lambda_loop(new_lambda_optimized(LambdaConfig(base_config=config, environment=LambdaEnvironment())))
names = ("asyncdynamo._expr", "asyncdynamo._update")
before = [name in sys.modules for name in names]
hooks[0]()
print(before, [name in sys.modules for name in names])
"""


def test_the_snapshot_holds_the_modules_a_first_write_would_import() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS], capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["[False,", "False]", "[True,", "True]"]


async def test_the_snapshot_holds_the_projection_validators_of_registered_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_ops, "_ADAPTERS", {})
    db = LambdaDB(lean_lambda_config(), transport=FakeTransport())
    db.pre_register_models(Note)
    assert _ops._ADAPTERS == {}
    await db.before_snapshot()
    assert set(_ops._ADAPTERS) == {(Note, name) for name in Note.model_fields}
