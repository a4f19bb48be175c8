"""Fixtures for the handler tests: the handlers' runtime on this test's moto tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from asyncdynamo import (
    DB,
    Config,
    LambdaConfig,
    LambdaEnvironment,
    PartnerConfig,
    TransportKind,
)
from asyncdynamo.lambda_testing import LambdaContext
from payments import FakeGateway, PaymentsLambdaConfig
from payments._reconcile import SettlementSource
from payments.handlers import HandlerSettings, configure, reset

CURSOR_SECRET = b"handler-tests-cursor-secret-0123456789"

Invoke = Callable[..., Any]


def handler_settings(
    config: Config, partners: tuple[PartnerConfig, ...] = (), **changes: Any
) -> HandlerSettings:
    base = replace(config, cursor_secret=CURSOR_SECRET)
    lambda_config = LambdaConfig(
        base_config=base, timeout_buffer=0.2, environment=LambdaEnvironment()
    )
    return HandlerSettings(
        payments=PaymentsLambdaConfig(lambda_=lambda_config), partners=partners, **changes
    )


def install(
    settings: HandlerSettings,
    gateway: FakeGateway | Any,
    settlements: SettlementSource | None = None,
) -> None:
    reset()
    configure(settings, gateway=gateway, settlements=settlements)


@pytest.fixture
def handlers(
    payment_tables: DB, dynamo_config: Config, gateway: FakeGateway
) -> Iterator[HandlerSettings]:
    """The handlers' runtime on this test's tables (merchant ``m-acme``), with ``gateway``."""
    settings = handler_settings(dynamo_config)
    install(settings, gateway)
    yield settings
    reset()
    configure()


@pytest.fixture
def lean_only(dynamo_transport: TransportKind) -> None:
    """For heavier tests: one transport is enough (the handlers do not depend on it)."""
    if dynamo_transport is not TransportKind.LEAN:
        pytest.skip("run on the lean transport only (moto load)")


def invoke(handler: Invoke, event: dict[str, Any], *, timeout: float = 10.0) -> Any:
    """Call a handler's Lambda entry point with a fresh context."""
    return handler(event, LambdaContext(timeout=timeout, function_name="payments-test"))


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
