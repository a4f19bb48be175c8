"""``DataKeyCachePolicy``: how long and how often a KMS data key is reused (a Config setting)."""

from __future__ import annotations

from .._errors import ConfigurationError
from .._record import FrozenRecord, setfield

__all__ = ["DataKeyCachePolicy"]


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
        if not max_age > 0:
            raise ConfigurationError("DataKeyCachePolicy.max_age must be positive seconds")
        if not 1 <= max_uses <= 2**32:
            raise ConfigurationError("DataKeyCachePolicy.max_uses must be 1 to 2**32")
        if max_entries < 1:
            raise ConfigurationError("DataKeyCachePolicy.max_entries must be at least 1")
        setfield(self, "max_age", max_age)
        setfield(self, "max_uses", max_uses)
        setfield(self, "max_entries", max_entries)
