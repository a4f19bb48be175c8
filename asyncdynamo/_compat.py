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
from typing import Any

from ._errors import ModelDeclarationError

__all__ = ["Compat", "EnvelopeFormat", "model_compat", "model_marks_writes", "put_version"]


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


def model_marks_writes(model: type[Any], compat: Compat) -> bool:
    """Whether ``put``/``update`` of ``model`` store a write token (``__write_token__``; on by
    default for native models, off for ``Compat.DYNAMORM`` ones, whose items must hold exactly
    what a DynamORM writer stores)."""
    value = getattr(model, "__write_token__", compat is Compat.NATIVE)
    if not isinstance(value, bool):
        raise ModelDeclarationError(
            f"{model.__name__}.__write_token__ must be True or False, got {value!r}"
        )
    return value


def model_compat(model: type[Any]) -> Compat:
    """The ``__compat__`` of ``model``, checked with its ``__envelope_format__``."""
    value = getattr(model, "__compat__", Compat.NATIVE)
    try:
        compat = Compat(value)
    except ValueError:
        known = ", ".join(f"Compat.{c.name}" for c in Compat)
        raise ModelDeclarationError(
            f"{model.__name__}.__compat__ must be one of {known}, got {value!r}"
        ) from None
    envelopes = getattr(model, "__envelope_format__", EnvelopeFormat.ASYNCDYNAMO)
    if envelopes not in tuple(EnvelopeFormat):
        raise ModelDeclarationError(
            f"{model.__name__}.__envelope_format__ must be an EnvelopeFormat, got {envelopes!r}"
        )
    if envelopes == EnvelopeFormat.DYNAMORM and compat is not Compat.DYNAMORM:
        raise ModelDeclarationError(
            f"{model.__name__} writes DynamORM envelopes: set __compat__ = Compat.DYNAMORM too"
        )
    return compat
