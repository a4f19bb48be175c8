"""The ``Model`` base class: a pydantic v2 model that knows its table."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from pydantic import BaseModel

from ._compat import Compat, EnvelopeFormat
from ._declare import build_spec
from ._errors import ModelDeclarationError
from ._pydantic_plugins import skip_plugin_lookup_when_disabled
from ._spec import TableSpec

__all__ = ["Model", "env_table_name", "spec_of"]

# Before the first validator below is built: spares importlib.metadata when plugins are all off.
skip_plugin_lookup_when_disabled()

_SPECS: WeakKeyDictionary[type[Any], TableSpec] = WeakKeyDictionary()


class Model(BaseModel):
    """Base class for items stored in DynamoDB.

    Declare the table with ``__table__`` (a name, or a resolver such as :func:`env_table_name`)
    and the keys with ``Annotated`` markers; ``__kms_key_id__`` overrides the DB's KMS key for
    ``Encrypted`` fields. A subclass without ``__table__`` anywhere in its
    hierarchy is abstract: a base for other models, never stored itself. Declaration mistakes
    raise :class:`ModelDeclarationError` when the class is created.

    ``__compat__`` picks whose rules the items follow: ``Compat.NATIVE`` (default) or
    ``Compat.DYNAMORM`` to share the table with Go services using DynamORM
    (see ``docs/dynamorm.md``).
    """

    __table__: ClassVar[str | Callable[[Any], str] | None] = None
    __compat__: ClassVar[Compat] = Compat.NATIVE
    __envelope_format__: ClassVar[EnvelopeFormat] = EnvelopeFormat.ASYNCDYNAMO
    """How ``Encrypted`` fields are written; ``EnvelopeFormat.DYNAMORM`` needs ``Compat.DYNAMORM``."""
    __kms_key_id__: ClassVar[str | None] = None
    """The KMS key (id, ARN or alias) sealing this model's ``Encrypted`` fields; ``None``: the
    DB's ``Config.kms_key_id``."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        table = cls.__table__
        if table is None:
            return
        if not (isinstance(table, str) or callable(table)):
            raise ModelDeclarationError(
                f"{cls.__name__}.__table__ must be a table name or a resolver, got {table!r}"
            )
        _SPECS[cls] = build_spec(cls, table)

    def __repr_args__(self) -> Any:
        # repr() and str() never show the value of an Encrypted field (logs, tracebacks).
        spec = _SPECS.get(type(self))
        hidden = {f.name for f in spec.encrypted} if spec is not None else set()
        for name, value in super().__repr_args__():
            if name in hidden and value is not None:
                yield name, _Redacted()
            else:
                yield name, value


class _Redacted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "'<encrypted>'"


def spec_of(model: type[Any]) -> TableSpec:
    """The TableSpec of a concrete model class."""
    try:
        return _SPECS[model]
    except (KeyError, TypeError):
        pass
    name = getattr(model, "__name__", repr(model))
    raise ModelDeclarationError(
        f"{name} is not a stored model: subclass asyncdynamo.Model and set __table__ = '...'"
    )


def env_table_name(variable: str, default: str | None = None) -> Callable[[Any], str]:
    """A table-name resolver that reads an environment variable when a DB first uses the model.

    Use it for stage-specific names set by the deployment (``PAYMENTS_TABLE=prod-payments``).
    The DB's ``table_prefix`` is not applied to names resolved this way.
    """

    def resolve(config: Any) -> str:
        value = os.environ.get(variable, default)
        if not value:
            raise ModelDeclarationError(f"environment variable {variable} names no table")
        return value

    resolve.__qualname__ = f"env_table_name({variable!r})"
    return resolve
