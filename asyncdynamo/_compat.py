"""Compatibility modes: whose rules a model follows when it shares a table with another library.

``Compat.NATIVE`` is asyncdynamo's own behaviour. ``Compat.DYNAMORM`` follows the DynamORM model
spec (DMS) where the two differ, so a Python service and a Go service using DynamORM can read and
write the same items (see ``docs/dynamorm.md``). A model opts in with a class attribute::

    class User(Model):
        __table__ = "users"
        __compat__ = Compat.DYNAMORM

Only the version numbering lives here; the value encodings live in ``asyncdynamo._dms`` and are
imported only by models that use them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Compat", "EnvelopeFormat", "put_version"]


class Compat(StrEnum):
    """Which library's rules a model's items follow."""

    NATIVE = "native"
    DYNAMORM = "dynamorm"


class EnvelopeFormat(StrEnum):
    """How a model's ``Encrypted`` fields are written (both are read by a DynamORM model).

    ``ASYNCDYNAMO``: asyncdynamo's envelope, bound to table, key and attribute (the default).
    ``DYNAMORM``: DynamORM's envelope map, bound to the attribute name only, so Go services
    using DynamORM can read the values; only for ``Compat.DYNAMORM`` models.
    """

    ASYNCDYNAMO = "asyncdynamo"
    DYNAMORM = "dynamorm"


def put_version(compat: Compat, current: int, *, create: bool, blind: bool) -> int:
    """The version a full-item put stores, given the version the instance carries.

    Native: every put stores ``current + 1`` (a new instance, at 0, is stored as 1).
    DynamORM: a create stores the instance's version as is (0 for a new item) and a blind
    create-or-update stores it unchanged too, as DynamORM's ``Create``/``CreateOrUpdate`` do;
    a version-checked replace stores ``current + 1``, like DynamORM's versioned update.
    """
    if compat is Compat.DYNAMORM and (create or blind):
        return current
    return current + 1
