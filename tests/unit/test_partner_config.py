"""PartnerConfig validation and loading partners from documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asyncdynamo import ConfigurationError, PartnerConfig, PartnerConfigurationError, load_partners

ARN = "arn:aws:iam::111111111111:role/payments-partner"


def partner(**changes: Any) -> PartnerConfig:
    values: dict[str, Any] = {"partner_id": "acme", "role_arn": ARN, "external_id": "acme-7f3a"}
    values.update(changes)
    return PartnerConfig(**values)


@pytest.mark.parametrize(
    "role_arn",
    [
        ARN,
        "arn:aws-cn:iam::123456789012:role/r",
        "arn:aws-us-gov:iam::123456789012:role/service-role/payments/reader",
        "arn:aws:iam::123456789012:role/with+=,.@_-chars",
    ],
)
def test_role_arns_of_every_partition_are_accepted(role_arn: str) -> None:
    assert partner(role_arn=role_arn).role_arn == role_arn


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::11111111111:role/too-few-digits",
        "arn:aws:iam::111111111111:user/not-a-role",
        "arn:aws:sts::111111111111:assumed-role/r/session",
        "arn:aws-eu:iam::111111111111:role/unknown-partition",
        "arn:aws:iam::111111111111:role/",
        "arn:aws:iam::111111111111:role/has space",
        "",
    ],
)
def test_malformed_role_arns_are_rejected(role_arn: str) -> None:
    with pytest.raises(PartnerConfigurationError) as raised:
        partner(role_arn=role_arn)
    assert raised.value.partner_id == "acme"


@pytest.mark.parametrize("external_id", ["", None])
def test_a_partner_without_an_external_id_is_rejected(external_id: str | None) -> None:
    with pytest.raises(PartnerConfigurationError, match="confused-deputy") as raised:
        partner(external_id=external_id)
    assert raised.value.partner_id == "acme"
    assert isinstance(raised.value, ConfigurationError)


@pytest.mark.parametrize("external_id", ["x", "has space", "a" * 1225])
def test_external_ids_outside_sts_rules_are_rejected(external_id: str) -> None:
    with pytest.raises(PartnerConfigurationError):
        partner(external_id=external_id)


@pytest.mark.parametrize("seconds", [900, 3600, 43200])
def test_session_durations_within_sts_limits_are_accepted(seconds: int) -> None:
    assert partner(session_seconds=seconds).session_seconds == seconds


@pytest.mark.parametrize("seconds", [899, 43201, 0, True, 900.5])
def test_session_durations_outside_sts_limits_are_rejected(seconds: Any) -> None:
    with pytest.raises(PartnerConfigurationError, match="session_seconds"):
        partner(session_seconds=seconds)


def test_the_default_session_name_names_the_partner() -> None:
    assert partner().role_session_name == "asyncdynamo-acme"


def test_default_session_names_are_valid_and_unique_for_awkward_ids() -> None:
    ids = ["acme corp", "acme/corp", "acme:corp", "x" * 100, "x" * 101, "ü"]

    names = [partner(partner_id=pid).role_session_name for pid in ids]

    assert len(set(names)) == len(ids)
    for name in names:
        assert 2 <= len(name) <= 64
        assert all(c.isascii() and (c.isalnum() or c in "_+=,.@-") for c in name), name


@pytest.mark.parametrize("name", ["a", "x" * 65, "has space", "slash/ed"])
def test_invalid_session_names_are_rejected(name: str) -> None:
    with pytest.raises(PartnerConfigurationError, match="session_name"):
        partner(session_name=name)


def test_the_account_id_comes_from_the_role_arn() -> None:
    assert partner().account_id == "111111111111"


def test_the_external_id_is_not_in_the_repr() -> None:
    assert "acme-7f3a" not in repr(partner())


def test_partners_load_from_a_json_object_keyed_by_id() -> None:
    document = json.dumps(
        {
            "acme": {"role_arn": ARN, "external_id": "acme-7f3a", "region": "eu-west-1"},
            "globex": {
                "role_arn": "arn:aws:iam::222222222222:role/r",
                "external_id": "globex-1",
                "session_seconds": 900,
            },
        }
    )

    loaded = load_partners(document)

    assert [p.partner_id for p in loaded] == ["acme", "globex"]
    assert loaded[0] == partner(region="eu-west-1")
    assert loaded[1].session_seconds == 900


def test_partners_load_from_a_list_of_objects() -> None:
    loaded = load_partners([{"partner_id": "acme", "role_arn": ARN, "external_id": "acme-7f3a"}])

    assert loaded == [partner()]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        ({"acme": {"role_arn": ARN}}, "no external_id"),
        ({"acme": {"role_arn": ARN, "external_id": "e1", "externalId": "x"}}, "unknown"),
        ({"acme": "arn"}, "expected an object"),
        ([{"role_arn": ARN, "external_id": "e1"}], "partner_id"),
        (
            [
                {"partner_id": "acme", "role_arn": ARN, "external_id": "e1"},
                {"partner_id": "acme", "role_arn": ARN, "external_id": "e2"},
            ],
            "twice",
        ),
        ("42", "must be an object"),
    ],
)
def test_bad_partner_documents_are_rejected_with_the_reason(document: Any, message: str) -> None:
    with pytest.raises(PartnerConfigurationError, match=message):
        load_partners(document)
