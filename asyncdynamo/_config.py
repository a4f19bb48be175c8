"""Settings for a DB, passed in explicitly (nothing here reads the environment)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from ._encryption._policy import DataKeyCachePolicy
from ._errors import ConfigurationError

__all__ = ["Config", "Credentials", "CredentialsProvider", "RetryPolicy", "TransportKind"]


class TransportKind(StrEnum):
    """Which transport a DB talks through."""

    AIOBOTOCORE = "aiobotocore"
    LEAN = "lean"


@dataclass(frozen=True, slots=True)
class Credentials:
    """AWS credentials; ``session_token`` and ``expiration`` (aware UTC) for temporary ones."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expiration: datetime | None = None

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter for retryable errors.

    Invalid values (``max_attempts < 1``, a non-positive ``base`` or ``cap``) raise
    :class:`ConfigurationError`.

    Attempt ``n`` (0-based) sleeps a uniform random time in ``[0, min(cap, base * 2**n))``.
    A sleep that would end after the caller's deadline is never started.
    """

    max_attempts: int = 8
    base: float = 0.025
    cap: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("RetryPolicy.max_attempts must be at least 1")
        if not (self.base > 0 and self.cap > 0):
            raise ConfigurationError("RetryPolicy.base and cap must be positive")

    def backoff(self, attempt: int, rng: Callable[[], float] | None = None) -> float:
        """The sleep before retry number ``attempt + 1`` (``rng`` defaults to :func:`jitter`)."""
        return (rng or jitter)() * min(self.cap, self.base * float(1 << attempt))


def jitter() -> float:
    """A uniform float in ``[0, 1)`` drawn from the operating system's entropy, for backoff.

    Not ``random.random``: a seeded generator's state is copied into every process restored
    from one Lambda SnapStart snapshot (and every fork), so the copies would back off in step
    and retry together. Reading the OS pool keeps no state to copy (and skips importing
    ``random`` on the cold path); it costs a system call, paid only when a retry waits.
    """
    return (int.from_bytes(os.urandom(7), "big") >> 3) * _TWO_TO_MINUS_53


_TWO_TO_MINUS_53 = 2.0**-53


# Which Config field overrides each service's endpoint. DynamoDB's override (moto, DynamoDB Local,
# a VPC endpoint) is never used for STS or KMS: AssumeRole carries the base account's session
# token, and KMS returns plaintext data keys. Services not listed get no override.
_ENDPOINT_SETTINGS = {
    "dynamodb": "endpoint_url",
    "sts": "sts_endpoint_url",
    "kms": "kms_endpoint_url",
}


def redacted_repr(obj: Any, secrets: frozenset[str]) -> str:
    """``Name(field=value, ...)`` of a dataclass, with the fields in ``secrets`` shown as ``'***'``."""
    shown = ", ".join(
        f"{f.name}={'***'!r}"
        if f.name in secrets and getattr(obj, f.name) is not None
        else f"{f.name}={getattr(obj, f.name)!r}"
        for f in fields(obj)
        if f.repr
    )
    return f"{type(obj).__name__}({shown})"


MIN_CURSOR_SECRET = 16

CredentialsProvider = Callable[[], Awaitable[Credentials]]
"""Called before signing each request; must return valid (unexpired) credentials quickly."""


@dataclass(frozen=True, slots=True)
class Config:
    """How a DB reaches DynamoDB.

    Attributes:
        region: AWS region of the tables.
        endpoint_url: override DynamoDB's endpoint (moto, DynamoDB Local, a VPC endpoint...).
            Only DynamoDB (and KMS, until it has its own setting) uses it.
        sts_endpoint_url: override STS's endpoint (AssumeRole for partner accounts); ``None``
            uses the regional STS endpoint of ``region``'s partition
            (``https://sts.<region>.amazonaws.com``). Never taken from ``endpoint_url``: the
            AssumeRole request carries the base account's session token.
        credentials: explicit credentials; ``None`` uses the transport's default resolution.
        credentials_provider: awaited for credentials before each request (refreshable ones,
            e.g. an assumed role); wins over ``credentials``.
        transport: which transport to use when none is passed to the DB.
        max_pool_connections: HTTP connections kept open for reuse.
        connect_timeout / read_timeout: seconds, per HTTP attempt.
        retry: the retry policy used for every call.
        table_prefix: prepended to every model's table name (``"prod-"`` for stages).
        table_names: explicit table name per model table name; wins over the prefix.
        return_consumed_capacity: always ask DynamoDB for consumed capacity.
        cursor_secret: key that signs pagination cursors (set it to share cursors across
            processes); at least 16 bytes, else :class:`ConfigurationError`; shown as ``'***'``
            by ``repr``.
        session: an aiobotocore ``AioSession`` or ``aioboto3.Session`` to build the client from.
        client_options: extra keyword arguments for the transport (advanced).
        kms_key_id: the KMS key (id, ARN or alias) that seals ``Encrypted`` fields; a model's
            ``__kms_key_id__`` wins. ``None``: models with encrypted fields fail closed.
        kms_endpoint_url: override KMS's endpoint (moto...); ``None`` uses the regional one.
            ``endpoint_url`` is never used for KMS.
        data_key_cache: bounds on reusing KMS data keys (see :class:`DataKeyCachePolicy`).
    """

    region: str = "us-east-1"
    endpoint_url: str | None = None
    sts_endpoint_url: str | None = None
    credentials: Credentials | None = None
    credentials_provider: CredentialsProvider | None = None
    transport: TransportKind = TransportKind.AIOBOTOCORE
    max_pool_connections: int = 10
    connect_timeout: float = 2.0
    read_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    table_prefix: str = ""
    table_names: Mapping[str, str] = field(default_factory=dict)
    return_consumed_capacity: bool = False
    cursor_secret: bytes | None = None
    session: Any = None
    client_options: Mapping[str, Any] = field(default_factory=dict)
    kms_key_id: str | None = None
    kms_endpoint_url: str | None = None
    data_key_cache: DataKeyCachePolicy = field(default_factory=DataKeyCachePolicy)

    def __post_init__(self) -> None:
        if self.max_pool_connections < 1:
            raise ConfigurationError("Config.max_pool_connections must be at least 1")
        if not (self.connect_timeout > 0 and self.read_timeout > 0):
            raise ConfigurationError("Config.connect_timeout and read_timeout must be positive")
        if self.cursor_secret is not None and (
            not isinstance(self.cursor_secret, bytes) or len(self.cursor_secret) < MIN_CURSOR_SECRET
        ):
            # A short key makes cursors forgeable; failing here beats failing at the first page().
            raise ConfigurationError(
                f"Config.cursor_secret must be bytes of at least {MIN_CURSOR_SECRET} bytes "
                "(e.g. secrets.token_bytes(32), the same in every process)"
            )

    def __repr__(self) -> str:  # never print the cursor secret
        return redacted_repr(self, frozenset({"cursor_secret"}))

    def endpoint_url_for(self, service: str) -> str | None:
        """The endpoint override for ``service`` (``"dynamodb"``, ``"sts"``, ``"kms"``).

        ``None`` means the service's regional endpoint.
        """
        setting = _ENDPOINT_SETTINGS.get(service)
        url: str | None = getattr(self, setting) if setting is not None else None
        return url

    def table_name(self, base: str) -> str:
        """The physical table name for a model's declared table name."""
        explicit = self.table_names.get(base)
        if explicit is not None:
            return explicit
        return f"{self.table_prefix}{base}"
