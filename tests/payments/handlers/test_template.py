"""The SAM template: valid (cfn-lint), tables as the models declare them, least privilege."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from asyncdynamo import Config, Model, TransportKind, spec_of
from asyncdynamo._schema import BillingMode, definition_for
from payments import PaymentConfig, PaymentsLambdaConfig
from payments._reconcile import ReconciliationReport
from payments.events import EVENT_NAMES, load_event
from payments.handlers import HandlerSettings

cfnlint_api = pytest.importorskip("cfnlint.api")
decode = pytest.importorskip("cfnlint.decode")

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "template.yaml"


def template() -> dict[str, Any]:
    parsed, errors = decode.decode_str(TEMPLATE.read_text(encoding="utf-8"))
    assert not errors
    return dict(parsed)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def lint(text: str) -> list[str]:
    """cfn-lint's errors and warnings (informational rules left out)."""
    return [str(m) for m in cfnlint_api.lint_all(text) if m.rule.id[0] in "EW"]


def test_the_template_passes_cfn_lint() -> None:
    assert lint(TEMPLATE.read_text(encoding="utf-8")) == []


def test_cfn_lint_would_catch_a_broken_template() -> None:
    broken = TEMPLATE.read_text(encoding="utf-8").replace("PAY_PER_REQUEST", "FREE")
    assert lint(broken)


def _settings() -> HandlerSettings:
    lambda_settings = PaymentsLambdaConfig(payments=PaymentConfig(kms_key_id="alias/x"))
    return HandlerSettings(payments=lambda_settings)


def test_every_table_has_the_keys_indexes_and_ttl_its_model_declares() -> None:
    tables = {
        r["Properties"]["TableName"]["Fn::Sub"].removeprefix("${AWS::StackName}-"): r["Properties"]
        for r in resources("AWS::DynamoDB::Table").values()
    }
    models: tuple[type[Model], ...] = (*_settings().models(), ReconciliationReport)
    for model in models:
        name = str(model.__table__)
        definition = definition_for(name, [spec_of(model)])
        expected = definition.create_params(BillingMode.PAY_PER_REQUEST, None, (1, 1))
        declared = tables[name]
        assert declared["KeySchema"] == expected["KeySchema"], model
        assert sorted(declared["AttributeDefinitions"], key=str) == sorted(
            expected["AttributeDefinitions"], key=str
        ), model
        assert declared.get("GlobalSecondaryIndexes", []) == expected.get(
            "GlobalSecondaryIndexes", []
        ), model
        ttl = declared.get("TimeToLiveSpecification", {}).get("AttributeName")
        assert ttl == definition.ttl_attribute, model
        assert declared["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert declared["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "DataKey"}


def test_every_function_is_an_importable_handler_with_its_own_scoped_policy() -> None:
    functions = resources("AWS::Serverless::Function")
    assert {f["Properties"]["Handler"] for f in functions.values()} == {
        f"payments.handlers.{name}.handler"
        for name in ("process", "query", "reconcile", "settle", "lookup")
    }
    for function in functions.values():
        module, _, attribute = function["Properties"]["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute))
        statements = function["Properties"]["Policies"][0]["Statement"]
        plain = [s for s in statements if "Fn::If" not in s]
        for statement in plain:
            assert statement["Resource"] != "*"
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert not any(a.endswith("*") for a in actions), statement
        (partners,) = [s["Fn::If"][1] for s in statements if "Fn::If" in s]
        assert partners["Action"] == "sts:AssumeRole"
        assert partners["Condition"] == {"Null": {"sts:ExternalId": "false"}}


def test_the_environment_the_template_sets_builds_the_handlers_settings() -> None:
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    environ = dict.fromkeys(variables, "x") | {
        "PAYMENTS_TABLE_PREFIX": "stack-",
        "PAYMENTS_PARTNERS": '{"acme": {"role_arn": "arn:aws:iam::111111111111:role/p", '
        '"external_id": "acme-ext"}}',
        "PAYMENTS_CURSOR_SECRET": "s" * 32,
        "PAYMENTS_GATEWAY": "payments.local:DemoGateway",
        "PAYMENTS_TRACING": "1",
        "AWS_REGION": "eu-west-1",
    }
    settings = HandlerSettings.from_environment(environ)
    config = settings.payments.lambda_config().resolve()[0]
    assert config.table_name("payments") == "stack-payments"
    assert config.cursor_secret == b"s" * 32
    assert config.kms_key_id == "x" and config.region == "eu-west-1"
    assert config.transport is TransportKind.LEAN
    assert settings.payments.lambda_.enable_xray
    assert [p.partner_id for p in settings.partners] == ["acme"]
    assert isinstance(config, Config)


def test_the_functions_skip_pydantics_plugin_scan() -> None:
    variables = template()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["PYDANTIC_DISABLE_PLUGINS"] == "__all__"


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_example_event_loads(name: str) -> None:
    values = {"payment_id": "pay_1", "day": "2026-11-30", "from": "a", "to": "b"}
    assert isinstance(load_event(name, **values), dict)
