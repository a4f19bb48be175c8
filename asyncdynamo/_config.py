"""Settings for a DB, passed in explicitly (nothing here reads the environment)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from ._errors import ConfigurationError
from ._record import EMPTY, FrozenRecord, frozen, setfield

__all__ = [
    "Config",
    "Credentials",
    "CredentialsProvider",
    "DataKeyCachePolicy",
    "RetryPolicy",
    "TransportKind",
]


class TransportKind(StrEnum):
    """Which transport a DB talks through."""

    AIOBOTOCORE = "aiobotocore"
    LEAN = "lean"


@frozen
class Credentials(FrozenRecord):
    """AWS credentials; ``session_token`` and ``expiration`` (aware UTC) for temporary ones."""

    __slots__ = ("access_key_id", "expiration", "secret_access_key", "session_token")
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: datetime | None

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: datetime | None = None,
    ) -> None:
        setfield(self, "access_key_id", access_key_id)
        setfield(self, "secret_access_key", secret_access_key)
        setfield(self, "session_token", session_token)
        setfield(self, "expiration", expiration)

    def __repr__(self) -> str:  # never print the secret
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key='***')"


@frozen
class RetryPolicy(FrozenRecord):
    """Exponential backoff with full jitter for retryable errors.

    Invalid values (``max_attempts < 1``, a non-positive ``base`` or ``cap``) raise
    :class:`ConfigurationError`.

    Attempt ``n`` (0-based) sleeps a uniform random time in ``[0, min(cap, base * 2**n))``.
    A sleep that would end after the caller's deadline is never started.
    """

    __slots__ = ("base", "cap", "max_attempts")
    max_attempts: int
    base: float
    cap: float

    def __init__(self, max_attempts: int = 8, base: float = 0.025, cap: float = 2.0) -> None:
        setfield(self, "max_attempts", max_attempts)
        setfield(self, "base", base)
        setfield(self, "cap", cap)
        self.__post_init__()

    def __post_init__(self) -> None:  # also run by pydantic when it builds one from a dict
        if self.max_attempts < 1:
            raise ConfigurationError("RetryPolicy.max_attempts must be at least 1")
        if not (self.base > 0 and self.cap > 0):
            raise ConfigurationError("RetryPolicy.base and cap must be positive")

    def backoff(self, attempt: int, rng: Callable[[], float] | None = None) -> float:
        """The sleep before retry number ``attempt + 1`` (``rng`` defaults to :func:`jitter`)."""
        return (rng or jitter)() * min(self.cap, self.base * float(1 << attempt))


@frozen
class DataKeyCachePolicy(FrozenRecord):
    """Bounds on the per-DB cache of KMS data keys.

    One KMS ``GenerateDataKey`` gives a data key that seals values of one (table, attribute) until
    it reaches ``max_age`` or ``max_uses``; data keys decrypted by KMS for reads are kept until
    ``max_age``. At most ``max_entries`` keys of each kind are held (least recently used go
    first). Expired and evicted keys are dropped and their bytes overwritten.

    The defaults bound what one leaked key exposes to five minutes of writes and at most 10,000
    values per key (far below AES-GCM's 2**32 random-nonce limit), while a warm Lambda reading
    many items makes a handful of KMS calls instead of one per item.

    Attributes:
        max_age: seconds a data key is used after KMS returned it.
        max_uses: values sealed with one data key before a new one is generated.
        max_entries: data keys held per cache (sealing and opening each).
    """

    __slots__ = ("max_age", "max_entries", "max_uses")
    max_age: float
    max_uses: int
    max_entries: int

    def __init__(
        self, max_age: float = 300.0, max_uses: int = 10_000, max_entries: int = 256
    ) -> None:
        setfield(self, "max_age", max_age)
        setfield(self, "max_uses", max_uses)
        setfield(self, "max_entries", max_entries)
        self.__post_init__()

    def __post_init__(self) -> None:  # also run by pydantic when it builds one from a dict
        if not self.max_age > 0:
            raise ConfigurationError("DataKeyCachePolicy.max_age must be positive seconds")
        if not 1 <= self.max_uses <= 2**32:
            raise ConfigurationError("DataKeyCachePolicy.max_uses must be 1 to 2**32")
        if self.max_entries < 1:
            raise ConfigurationError("DataKeyCachePolicy.max_entries must be at least 1")


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


MIN_CURSOR_SECRET = 16
# Both immutable, so one instance serves every Config that keeps the default.
_DEFAULT_RETRY = RetryPolicy()
_DEFAULT_DATA_KEY_CACHE = DataKeyCachePolicy()

CredentialsProvider = Callable[[], Awaitable[Credentials]]
"""Called before signing each request; must return valid (unexpired) credentials quickly."""


@frozen
class Config(FrozenRecord):
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

    __slots__ = (
        "client_options",
        "connect_timeout",
        "credentials",
        "credentials_provider",
        "cursor_secret",
        "data_key_cache",
        "endpoint_url",
        "kms_endpoint_url",
        "kms_key_id",
        "max_pool_connections",
        "read_timeout",
        "region",
        "retry",
        "return_consumed_capacity",
        "session",
        "sts_endpoint_url",
        "table_names",
        "table_prefix",
        "transport",
    )
    _redacted = frozenset({"cursor_secret"})  # never printed
    region: str
    endpoint_url: str | None
    sts_endpoint_url: str | None
    credentials: Credentials | None
    credentials_provider: CredentialsProvider | None
    transport: TransportKind
    max_pool_connections: int
    connect_timeout: float
    read_timeout: float
    retry: RetryPolicy
    table_prefix: str
    table_names: Mapping[str, str]
    return_consumed_capacity: bool
    cursor_secret: bytes | None
    session: Any
    client_options: Mapping[str, Any]
    kms_key_id: str | None
    kms_endpoint_url: str | None
    data_key_cache: DataKeyCachePolicy

    def __init__(
        self,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        sts_endpoint_url: str | None = None,
        credentials: Credentials | None = None,
        credentials_provider: CredentialsProvider | None = None,
        transport: TransportKind = TransportKind.AIOBOTOCORE,
        max_pool_connections: int = 10,
        connect_timeout: float = 2.0,
        read_timeout: float = 10.0,
        retry: RetryPolicy = _DEFAULT_RETRY,
        table_prefix: str = "",
        table_names: Mapping[str, str] = EMPTY,
        return_consumed_capacity: bool = False,
        cursor_secret: bytes | None = None,
        session: Any = None,
        client_options: Mapping[str, Any] = EMPTY,
        kms_key_id: str | None = None,
        kms_endpoint_url: str | None = None,
        data_key_cache: DataKeyCachePolicy = _DEFAULT_DATA_KEY_CACHE,
    ) -> None:
        setfield(self, "region", region)
        setfield(self, "endpoint_url", endpoint_url)
        setfield(self, "sts_endpoint_url", sts_endpoint_url)
        setfield(self, "credentials", credentials)
        setfield(self, "credentials_provider", credentials_provider)
        setfield(self, "transport", transport)
        setfield(self, "max_pool_connections", max_pool_connections)
        setfield(self, "connect_timeout", connect_timeout)
        setfield(self, "read_timeout", read_timeout)
        setfield(self, "retry", retry)
        setfield(self, "table_prefix", table_prefix)
        setfield(self, "table_names", {} if table_names is EMPTY else table_names)
        setfield(self, "return_consumed_capacity", return_consumed_capacity)
        setfield(self, "cursor_secret", cursor_secret)
        setfield(self, "session", session)
        setfield(self, "client_options", {} if client_options is EMPTY else client_options)
        setfield(self, "kms_key_id", kms_key_id)
        setfield(self, "kms_endpoint_url", kms_endpoint_url)
        setfield(self, "data_key_cache", data_key_cache)
        self.__post_init__()

    def __post_init__(self) -> None:  # also run by pydantic when it builds one from a dict
        if self.max_pool_connections < 1:
            raise ConfigurationError("Config.max_pool_connections must be at least 1")
        if not (self.connect_timeout > 0 and self.read_timeout > 0):
            raise ConfigurationError("Config.connect_timeout and read_timeout must be positive")
        secret = self.cursor_secret
        if secret is not None and (
            not isinstance(secret, bytes) or len(secret) < MIN_CURSOR_SECRET
        ):
            # A short key makes cursors forgeable; failing here beats failing at the first page().
            raise ConfigurationError(
                f"Config.cursor_secret must be bytes of at least {MIN_CURSOR_SECRET} bytes "
                "(e.g. secrets.token_bytes(32), the same in every process)"
            )

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
