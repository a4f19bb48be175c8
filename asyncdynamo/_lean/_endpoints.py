"""Where a service lives: region + partition → URL, or the configured override."""

from __future__ import annotations

from asyncdynamo._errors import ConfigurationError
from asyncdynamo._record import FrozenRecord, frozen, setfield

__all__ = ["Endpoint", "regional_url", "resolve_endpoint"]

_REGION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# Partition by region prefix; everything else is the commercial ``aws`` partition.
_PARTITION_SUFFIXES = (
    ("cn-", "amazonaws.com.cn"),
    ("us-gov-", "amazonaws.com"),
    ("us-isob-", "sc2s.sgov.gov"),
    ("us-iso-", "c2s.ic.gov"),
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@frozen
class Endpoint(FrozenRecord):
    """A resolved service endpoint.

    Attributes:
        scheme: ``"http"`` or ``"https"``.
        host: the host name or IP address (IPv6 without brackets).
        port: the TCP port.
        path: the request path, ``"/"`` unless the override URL has one.
        host_header: the ``Host`` header value (port only when it is not the scheme's default).
    """

    __slots__ = ("host", "host_header", "path", "port", "scheme")
    scheme: str
    host: str
    port: int
    path: str
    host_header: str

    def __init__(self, scheme: str, host: str, port: int, path: str, host_header: str) -> None:
        setfield(self, "scheme", scheme)
        setfield(self, "host", host)
        setfield(self, "port", port)
        setfield(self, "path", path)
        setfield(self, "host_header", host_header)

    @property
    def tls(self) -> bool:
        """Whether requests go over TLS."""
        return self.scheme == "https"


def _is_region_name(region: str) -> bool:
    # Region names are interpolated into a host name, so anything unlike one is refused.
    parts = region.split("-")
    return len(parts) >= 2 and all(parts) and _REGION_CHARS.issuperset(region)


def _dns_suffix(region: str) -> str:
    for prefix, suffix in _PARTITION_SUFFIXES:
        if region.startswith(prefix):
            return suffix
    return "amazonaws.com"


def parse_url(url: str) -> Endpoint:
    """Split an ``http(s)://host[:port][/path]`` URL into an :class:`Endpoint`.

    Raises:
        ConfigurationError: the URL is not an absolute http(s) URL.
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS:
        raise ConfigurationError(f"endpoint URL {url!r} must start with http:// or https://")
    authority, slash, path = rest.partition("/")
    authority = authority.rpartition("@")[2]  # user info is never sent
    path = "/" + path if slash else "/"
    path = path.partition("?")[0].partition("#")[0] or "/"
    port: int | None = None
    if authority.startswith("["):
        host, _, after = authority[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = authority.partition(":")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigurationError(f"endpoint URL {url!r} has an invalid port")
        port = int(port_text)
    if not host:
        raise ConfigurationError(f"endpoint URL {url!r} has no host")
    host = host.lower()
    default_port = _DEFAULT_PORTS[scheme]
    if port is None:
        port = default_port
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default_port else f"{shown}:{port}"
    return Endpoint(scheme=scheme, host=host, port=port, path=path, host_header=host_header)


def resolve_endpoint(service: str, region: str, endpoint_url: str | None = None) -> Endpoint:
    """The endpoint for ``service`` in ``region``; ``endpoint_url`` wins when given.

    Args:
        service: the endpoint prefix (``"dynamodb"``, ``"kms"``, ``"sts"``).
        region: the AWS region; it also picks the partition (``cn-*`` → ``amazonaws.com.cn``).
        endpoint_url: an explicit endpoint (moto, DynamoDB Local, a VPC endpoint...).

    Raises:
        ConfigurationError: the region is not a region name, or the URL is not usable.
    """
    if endpoint_url:
        return parse_url(endpoint_url)
    return parse_url(regional_url(service, region))


def regional_url(service: str, region: str) -> str:
    """``https://<service>.<region>.<partition's DNS suffix>`` (STS's regional endpoint too).

    Raises:
        ConfigurationError: the region is not a region name.
    """
    if not _is_region_name(region):
        raise ConfigurationError(f"{region!r} is not an AWS region name (like 'eu-west-1')")
    return f"https://{service}.{region}.{_dns_suffix(region)}"
