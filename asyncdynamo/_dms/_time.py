"""RFC 3339 timestamps with nanoseconds, as DynamORM stores them, read without loss.

Python's ``datetime`` stops at microseconds. :class:`NanoDatetime` is a ``datetime`` that also
keeps the three digits below the microsecond and the exact text it was read from, so an item
read and written back stores the same text; any derived value (``replace``, arithmetic,
``astimezone``) is a new object without them.

Written form: UTC, ``Z``, always nine fraction digits (``2024-05-01T10:20:30.123456000Z``).
DynamORM's Go writer trims trailing zeros (``...30.1234Z``), which keeps time order only
approximately in string order; a fixed width keeps it exactly, and Go parses both.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from .._errors import SerializationError

__all__ = ["NanoDatetime", "format_time", "parse_time"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)


class NanoDatetime(datetime):
    """A ``datetime`` read from a DMS timestamp, keeping its nanoseconds and stored text.

    Attributes:
        nanosecond: 0..999, the part of the fraction below ``microsecond``.
        stored_text: the text it was read from (written back verbatim while unchanged).
    """

    # Class-level defaults: datetime methods that build a new instance of this class
    # (replace, astimezone) get no per-instance values, hence no stale stored text.
    nanosecond: int = 0
    stored_text: str | None = None

    @classmethod
    def from_parts(
        cls, value: datetime, nanosecond: int, stored_text: str | None = None
    ) -> NanoDatetime:
        made = cls(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=value.tzinfo,
        )
        made.nanosecond = nanosecond
        made.stored_text = stored_text
        return made

    def __repr__(self) -> str:
        return f"NanoDatetime({format_time(self)!r})"


def parse_time(text: str) -> NanoDatetime | None:
    """The instant an RFC 3339 timestamp names (up to nanoseconds), or ``None`` if it is not one."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    digits = (fraction or "").ljust(9, "0")
    if zone in ("Z", "z"):
        tz: timezone = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        tz = timezone(sign * offset)
    try:
        value = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(digits[:6]),
            tzinfo=tz,
        )
    except ValueError:
        return None  # e.g. a leap second: left to pydantic, which reports it
    return NanoDatetime.from_parts(value, int(digits[6:]), text)


def format_time(value: datetime) -> str:
    """The DMS text for ``value``: its stored text if unchanged, else UTC with 9 digits and Z."""
    stored = getattr(value, "stored_text", None)
    if stored is not None:
        return str(stored)
    if value.tzinfo is None or value.utcoffset() is None:
        raise SerializationError(
            f"naive datetime {value.isoformat()} is ambiguous; give it a timezone (e.g. UTC)"
        )
    nanos = int(getattr(value, "nanosecond", 0))
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}{nanos:03d}Z"
    )
