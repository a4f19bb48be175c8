"""Endpoint resolution by region and partition, and the endpoint_url override."""

from __future__ import annotations

import pytest

from asyncdynamo._errors import ConfigurationError
from asyncdynamo._lean._endpoints import Endpoint, resolve_endpoint


@pytest.mark.parametrize(
    ("service", "region", "host"),
    [
        ("dynamodb", "us-east-1", "dynamodb.us-east-1.amazonaws.com"),
        ("kms", "eu-central-2", "kms.eu-central-2.amazonaws.com"),
        ("dynamodb", "cn-north-1", "dynamodb.cn-north-1.amazonaws.com.cn"),
        ("sts", "cn-northwest-1", "sts.cn-northwest-1.amazonaws.com.cn"),
        ("dynamodb", "us-gov-west-1", "dynamodb.us-gov-west-1.amazonaws.com"),
        ("sts", "us-gov-east-1", "sts.us-gov-east-1.amazonaws.com"),
    ],
)
def test_region_picks_partition_and_https_endpoint(service: str, region: str, host: str) -> None:
    assert resolve_endpoint(service, region) == Endpoint("https", host, 443, "/", host)


def test_endpoint_url_override_wins() -> None:
    endpoint = resolve_endpoint("dynamodb", "cn-north-1", "http://127.0.0.1:8000")

    assert endpoint == Endpoint("http", "127.0.0.1", 8000, "/", "127.0.0.1:8000")
    assert not endpoint.tls


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://LocalHost", Endpoint("https", "localhost", 443, "/", "localhost")),
        ("http://h:80/", Endpoint("http", "h", 80, "/", "h")),
        ("https://h:443/base/?q=1", Endpoint("https", "h", 443, "/base/", "h")),
        ("http://user:pw@h:9000/p", Endpoint("http", "h", 9000, "/p", "h:9000")),
        ("http://[::1]:8000", Endpoint("http", "::1", 8000, "/", "[::1]:8000")),
    ],
)
def test_override_urls_are_parsed(url: str, expected: Endpoint) -> None:
    assert resolve_endpoint("dynamodb", "us-east-1", url) == expected


@pytest.mark.parametrize(
    "url", ["localhost:8000", "ftp://h", "http://", "http://h:port", "http://h:70000"]
)
def test_unusable_override_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        resolve_endpoint("dynamodb", "us-east-1", url)


@pytest.mark.parametrize(
    "region", ["", "useast1", "us-east-1.evil.com", "us-east-1/x", "US-EAST-1"]
)
def test_region_that_is_not_a_region_name_is_refused(region: str) -> None:
    with pytest.raises(ConfigurationError, match="region"):
        resolve_endpoint("dynamodb", region)
