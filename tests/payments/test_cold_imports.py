"""What a cold ``process`` handler loads before its first payment answers.

A fresh interpreter, told it is a Lambda function, imports ``payments.handlers.process`` (which
builds the runtime: Lambda's init phase) and creates one payment (``POST /payments``). The
modules it loaded from that import to the 201 are read from ``sys.modules`` (``-X importtime``
misses modules loaded through a package's lazy ``__getattr__``) and must be on the allow-lists
below: everything listed is something that first payment uses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from typing import Any

import pytest

from asyncdynamo import DB, Config, TransportKind
from asyncdynamo.lambda_testing import lambda_environ
from payments import PROCESSOR_MODELS, Card, Merchant
from payments.events import load_event
from tests.integration.test_cold_imports import NEVER, OURS, THIRD_PARTY, is_stdlib, top_level
from tests.payments.conftest import MERCHANT_ID, TEST_PAN, MakeTables
from tests.unit.test_import_cost import WRITE_PATH

pytestmark = pytest.mark.integration

_CHILD = """
import json, sys
class Context:  # not asyncdynamo.lambda_testing's: its import would count
    aws_request_id = "cold-1"

    def get_remaining_time_in_millis(self):
        return 10_000

event = json.loads(sys.argv[1])
before = set(sys.modules)
from payments.handlers.process import handler
response = handler(event, Context())
loaded = sorted(set(sys.modules) - before)
classes = sorted(
    name
    for module in loaded
    if module.startswith("payments")
    for name, value in vars(sys.modules[module]).items()
    if isinstance(value, type) and value.__module__ == module
)
print(json.dumps({"response": response, "loaded": loaded, "classes": classes}))
"""

# The payments modules the first payment uses: the handler frame, the processor and the
# tables it writes in one transaction (payment, ledger, audit, idempotency), the merchant.
PAYMENTS = {
    "payments",
    "payments._audit",
    "payments._card",
    "payments._config",
    "payments._cost",
    "payments._errors",
    "payments._gateway",
    "payments._hashing",
    "payments._idempotency",
    "payments._models",
    "payments._money",
    "payments._processor",
    "payments._requests",
    "payments._steps",
    "payments.handlers",
    "payments.handlers._common",
    "payments.handlers._http",
    "payments.handlers._log",
    "payments.handlers._runtime",
    "payments.handlers.process",
}
# asyncdynamo modules a payment needs beyond a GetItem's: condition expressions (the
# idempotency claim, the state change), the phase update and the transaction that records it:
# exactly what a first conditional put, update and transaction load (none builds a dataclass;
# tests/unit/test_import_cost.py checks both).
ASYNCDYNAMO_FOR_PAYMENTS = WRITE_PATH
# The test's card processor (PAYMENTS_GATEWAY) and the packages holding it.
GATEWAY = {"tests", "tests.payments", "tests.payments.cold_gateway"}
# Never before the first payment without a KMS key: the other handlers' operations, the card
# vault and its encryption, the in-memory fake processor, partner accounts.
NOT_WITHOUT_KMS = {
    "asyncdynamo._encryption._engine",
    "asyncdynamo._multi_account",
    "payments._customer",
    "payments._fake_gateway",
    "payments._lookup",
    "payments._reconcile",
    "payments._settle",
    "payments._settlement",
    "payments._vault",
    "payments.handlers.query",
}
# Classes a payment never uses (customers, the card vault without a key, the fake processor,
# the settlement report): a cold handler does not build them.
UNUSED_CLASSES = {"Card", "Customer", "FakeGateway", "SettlementLine"}
# The stored models the first payment reads or writes.
PAYMENT_MODELS = {"AuditRecord", "IdempotencyRecord", "Merchant", "Payment", "Transaction"}


@dataclass(frozen=True)
class ColdRun:
    response: dict[str, Any]
    loaded: set[str]  # modules, from the handler's import to its first answer
    classes: set[str]  # the classes payments' loaded modules define


def run_cold_process_handler(config: Config, **environ: str) -> ColdRun:
    """A fresh ``process`` handler's first payment: its response and what it loaded."""
    assert config.endpoint_url is not None
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_SESSION_TOKEN")},
        **lambda_environ(function_name="payments-process", memory_size_mb=1024),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "PAYMENTS_ENDPOINT_URL": config.endpoint_url,
        "PAYMENTS_TABLE_PREFIX": config.table_prefix,
        "PAYMENTS_GATEWAY": "tests.payments.cold_gateway:ApprovingGateway",
        "PAYMENTS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p),
        **environ,
    }
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(load_event("process_create"))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return ColdRun(report["response"], set(report["loaded"]), set(report["classes"]))


async def _tables(db: DB, make_tables: MakeTables, *extra: type[Card]) -> None:
    await make_tables(*PROCESSOR_MODELS, *extra)
    await db.put(Merchant(merchant_id=MERCHANT_ID, name="Acme", currencies=["USD"]))


def _lean_over_http(config: Config) -> None:
    if config.transport is not TransportKind.LEAN:
        pytest.skip("the handler runs on the lean transport; one run is enough")
    if config.endpoint_url is None or not config.endpoint_url.startswith("http://"):
        pytest.skip("needs a plain-http endpoint")


async def test_a_cold_process_handler_loads_only_what_its_first_payment_uses(
    db: DB, make_tables: MakeTables, dynamo_config: Config
) -> None:
    _lean_over_http(dynamo_config)
    await _tables(db, make_tables)
    run = run_cold_process_handler(dynamo_config)
    assert run.response["statusCode"] == 201, run.response
    loaded = run.loaded
    tops = {top_level(m) for m in loaded}
    never = NEVER - {"payments"}  # the GetItem handler's list: no payments code, no crypto...
    assert not tops & never, sorted(tops & never)
    assert not loaded & NOT_WITHOUT_KMS, sorted(loaded & NOT_WITHOUT_KMS)
    third_party = {t for t in tops if not is_stdlib(t)} - {"asyncdynamo", "payments", "tests"}
    assert third_party <= THIRD_PARTY, sorted(third_party - THIRD_PARTY)
    ours = {m for m in loaded if top_level(m) == "asyncdynamo"}
    assert ours <= OURS | ASYNCDYNAMO_FOR_PAYMENTS, sorted(ours - OURS - ASYNCDYNAMO_FOR_PAYMENTS)
    assert ours >= ASYNCDYNAMO_FOR_PAYMENTS, f"no longer loaded: {ASYNCDYNAMO_FOR_PAYMENTS - ours}"
    payments = {m for m in loaded if top_level(m) == "payments"}
    assert payments <= PAYMENTS, sorted(payments - PAYMENTS)
    tests = {m for m in loaded if top_level(m) == "tests"}
    assert tests <= GATEWAY, sorted(tests - GATEWAY)
    assert not run.classes & UNUSED_CLASSES, sorted(run.classes & UNUSED_CLASSES)
    assert run.classes >= PAYMENT_MODELS


async def test_with_a_kms_key_the_cold_handler_loads_the_card_vault_and_seals_the_card(
    db: DB, make_tables: MakeTables, dynamo_config: Config, kms_key: str
) -> None:
    _lean_over_http(dynamo_config)
    await _tables(db, make_tables, Card)
    run = run_cold_process_handler(dynamo_config, PAYMENTS_KMS_KEY_ID=kms_key)
    assert run.response["statusCode"] == 201, run.response
    assert {"payments._vault", "cryptography"} <= run.loaded
    assert "Card" in run.classes
    payment = json.loads(run.response["body"])["payment"]
    token = payment["card_token"]
    async with DB(replace(dynamo_config, kms_key_id=kms_key)) as vault:
        raw = await vault.client.call(
            "GetItem", {"TableName": vault.table_name(Card), "Key": {"token": {"S": token}}}
        )
        stored = await vault.get(Card, token, consistent=True, required=True)
    assert TEST_PAN not in repr(raw["Item"])
    assert stored.pan == TEST_PAN
    assert stored.last4 == payment["card_last4"]
