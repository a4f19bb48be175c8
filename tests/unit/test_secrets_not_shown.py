"""Secrets never appear in the repr/str of asyncdynamo's settings or in its error messages."""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Iterator, Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

import asyncdynamo
import asyncdynamo.lambda_testing
import asyncdynamo.local
from asyncdynamo import (
    DB,
    AccessDeniedError,
    AssumeRoleFailedError,
    AsyncDynamoError,
    CancellationReason,
    Config,
    Credentials,
    LambdaConfig,
    MultiAccountDB,
    PartnerConfig,
    PartnerConfigurationError,
    RetryPolicy,
    load_partners,
)
from asyncdynamo._client import Client
from asyncdynamo._partner_credentials import assume_role

MODULES: tuple[ModuleType, ...] = (asyncdynamo, asyncdynamo.local, asyncdynamo.lambda_testing)
SECRET = "SECRETvalue0123456789"
SECRET_BYTES = SECRET.encode()
EXTERNAL_ID = f"ext-{SECRET}"
ROLE_ARN = "arn:aws:iam::111111111111:role/payments-partner"
CREDENTIALS = Credentials("AKIDEXAMPLE", f"key-{SECRET}", f"token-{SECRET}")
CONFIG = Config(credentials=CREDENTIALS, cursor_secret=SECRET_BYTES * 2)
# A field of a settings type whose name says it holds a secret.
SECRET_FIELD = re.compile(r"secret|token|external_id|password|private", re.IGNORECASE)

SAMPLES: dict[type[Any], Any] = {
    Config: CONFIG,
    LambdaConfig: LambdaConfig(base_config=CONFIG),
    Credentials: CREDENTIALS,
    PartnerConfig: PartnerConfig("acme", ROLE_ARN, EXTERNAL_ID),
    RetryPolicy: RetryPolicy(),
    asyncdynamo.local.Endpoint: asyncdynamo.local.Endpoint(
        url="http://127.0.0.1:1", region="us-east-1", credentials=CREDENTIALS
    ),
}


def public_classes() -> Iterator[type[Any]]:
    for module in MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value):
                yield value


def assert_hidden(text: str) -> None:
    assert SECRET not in text
    assert repr(SECRET_BYTES) not in text


def test_every_settings_type_holding_a_secret_has_a_sample_here() -> None:
    holding = {
        cls
        for cls in public_classes()
        if dataclasses.is_dataclass(cls)
        and (
            any(SECRET_FIELD.search(f.name) for f in dataclasses.fields(cls))
            or any(f.type in ("Config", "Config | None") for f in dataclasses.fields(cls))
            or cls.__name__.endswith("Config")
        )
    }
    assert holding <= set(SAMPLES), f"add samples for {holding - set(SAMPLES)}"


@pytest.mark.parametrize("sample", list(SAMPLES.values()), ids=lambda s: type(s).__name__)
def test_settings_never_show_their_secrets(sample: Any) -> None:
    assert_hidden(repr(sample))
    assert_hidden(str(sample))
    assert_hidden(f"{sample}")


def test_a_config_without_a_cursor_secret_says_so() -> None:
    assert "cursor_secret=None" in repr(Config())
    assert "cursor_secret='***'" in repr(CONFIG)


# --- every error type ---------------------------------------------------------------------------

SECRET_ITEM = {"card": {"S": SECRET}}


def sample_argument(name: str, annotation: str) -> Any:
    """A value for one keyword argument of an error's constructor, carrying the secret."""
    by_name: dict[str, Any] = {
        "partner_id": "acme",
        "role_arn": ROLE_ARN,
        "operation": "PutItem",
        "code": "AccessDenied",
        "model": "Payment",
        "expected_account": "111111111111",
        "assumed_arn": "arn:aws:sts::111111111111:assumed-role/payments-partner/s",
        "unprocessed": {"t": [{"PutRequest": {"Item": SECRET_ITEM}}]},
        "in_flight": {"t": [{"PutRequest": {"Item": SECRET_ITEM}}]},
        "reasons": [CancellationReason("ConditionalCheckFailed", "no", SECRET_ITEM)],
        "causes": [None],
        "cause": RuntimeError(SECRET),
        "partial": [SECRET_ITEM],
        "considered": ["table"],
        "request_sent": True,
        "table": "payments",
        "key": {"payment_id": {"S": "p-1"}},
        "item": SECRET_ITEM,
        "raw_item": SECRET_ITEM,
        "model_item": SimpleNamespace(card=SECRET),
    }
    if name in by_name:
        return by_name[name]
    if "Mapping" in annotation:
        return SECRET_ITEM
    if "int" in annotation:
        return 1
    if "float" in annotation:
        return 0.0
    raise AssertionError(f"no sample for {name}: {annotation}")


def error_types() -> list[type[AsyncDynamoError]]:
    return sorted(
        (c for c in public_classes() if issubclass(c, AsyncDynamoError)), key=lambda c: c.__name__
    )


@pytest.mark.parametrize("error_type", error_types(), ids=lambda c: c.__name__)
def test_no_error_type_renders_the_secrets_it_carries(error_type: type[AsyncDynamoError]) -> None:
    parameters = inspect.signature(error_type.__init__).parameters
    kwargs = {
        name: sample_argument(name, str(parameter.annotation))
        for name, parameter in parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    error = error_type("it failed", **kwargs)

    assert_hidden(str(error))
    assert_hidden(repr(error))


# --- error messages built from secret-bearing input ----------------------------------------------


def test_a_partner_list_entry_without_an_id_is_named_without_its_external_id() -> None:
    with pytest.raises(PartnerConfigurationError) as raised:
        load_partners([{"role_arn": ROLE_ARN, "external_id": EXTERNAL_ID}])

    assert_hidden(str(raised.value))
    assert "external_id" in str(raised.value)  # the keys say which entry it is


def test_a_partner_document_entry_that_is_not_an_object_is_not_shown() -> None:
    with pytest.raises(PartnerConfigurationError) as raised:
        load_partners({"acme": EXTERNAL_ID})

    assert_hidden(str(raised.value))


@pytest.mark.parametrize(
    "changes",
    [
        {"role_arn": "not-an-arn"},
        {"session_name": "bad name"},
        {"session_seconds": 10},
        {"region": ""},
        {"external_id": f"{SECRET} with spaces"},
    ],
)
def test_an_invalid_partner_config_error_omits_the_external_id(changes: dict[str, Any]) -> None:
    values = {"role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, **changes}
    with pytest.raises(PartnerConfigurationError) as raised:
        PartnerConfig.from_mapping("acme", values)

    assert_hidden(str(raised.value))


class NoNetwork:
    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise AssertionError(f"unexpected {operation}")

    async def aclose(self) -> None:
        pass


def test_a_wrong_partner_entry_given_to_multi_account_db_is_not_shown() -> None:
    base = DB(CONFIG, transport=NoNetwork())
    entry: Any = {"partner_id": "acme", "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID}

    with pytest.raises(PartnerConfigurationError) as raised:
        MultiAccountDB(base, [entry])

    assert_hidden(str(raised.value))


class RefusingSts:
    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        raise AccessDeniedError("not authorized", code="AccessDenied", operation=operation)

    async def aclose(self) -> None:
        pass


async def test_an_assume_role_failure_omits_the_external_id() -> None:
    partner = PartnerConfig("acme", ROLE_ARN, EXTERNAL_ID)

    with pytest.raises(AssumeRoleFailedError) as raised:
        await assume_role(Client(RefusingSts(), RetryPolicy(max_attempts=1)), partner)

    assert_hidden(str(raised.value))
    assert_hidden(repr(raised.value))
