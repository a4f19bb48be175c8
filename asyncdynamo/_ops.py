"""Pure request builders for single-item writes and reads (no awaits, unit-testable).

A :class:`PreparedWrite` holds the body shared by the single-item call and the transaction
action (``Put``/``Update``/``Delete``/``ConditionCheck``), plus what is needed to explain a
failed condition as a typed error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError as PydanticValidationError

from ._codec import AttributeValue, deserialize
from ._compat import Compat, put_version
from ._errors import (
    AsyncDynamoError,
    ConditionalCheckFailedError,
    ExpressionError,
    ItemAlreadyExistsError,
    ItemDecodeError,
    ItemNotFoundError,
    UsageError,
    VersionConflictError,
)
from ._item import check_size, decode_field, from_attributes, from_item, key_of, to_item
from ._record import EMPTY, FrozenRecord, frozen, setfield
from ._spec import TableSpec

if TYPE_CHECKING:
    # Imported where used: a handler whose first request is a GetItem never loads expressions.
    from pydantic import TypeAdapter

    from ._expr import Condition, Path, Placeholders
    from ._update import Update

__all__ = [
    "PreparedWrite",
    "WriteKind",
    "build_projection_validators",
    "decode_projection",
    "explain_condition_failure",
    "prepare_condition_check",
    "prepare_delete",
    "prepare_get",
    "prepare_put",
    "prepare_update",
    "utc_time",
]


class WriteKind(StrEnum):
    PUT = "Put"
    UPDATE = "Update"
    DELETE = "Delete"
    CHECK = "ConditionCheck"


@frozen
class PreparedWrite(FrozenRecord):
    """One write, ready to send alone or as a transaction action."""

    __slots__ = (
        "expected_version",
        "key",
        "kind",
        "must_exist",
        "must_not_exist",
        "overwrite",
        "params",
        "sealed_values",
        "spec",
        "stored",
    )
    kind: WriteKind
    spec: TableSpec
    params: dict[str, Any]
    key: dict[str, AttributeValue]
    stored: Any
    expected_version: int | None
    must_exist: bool
    must_not_exist: bool
    overwrite: bool
    # Update values of Encrypted fields, sealed before sending: {value token: attribute}.
    sealed_values: Mapping[str, str]

    def __init__(
        self,
        kind: WriteKind,
        spec: TableSpec,
        params: dict[str, Any],
        key: dict[str, AttributeValue],
        stored: Any = None,
        expected_version: int | None = None,
        must_exist: bool = False,
        must_not_exist: bool = False,
        overwrite: bool = False,
        sealed_values: Mapping[str, str] = EMPTY,
    ) -> None:
        setfield(self, "kind", kind)
        setfield(self, "spec", spec)
        setfield(self, "params", params)
        setfield(self, "key", key)
        setfield(self, "stored", stored)
        setfield(self, "expected_version", expected_version)
        setfield(self, "must_exist", must_exist)
        setfield(self, "must_not_exist", must_not_exist)
        setfield(self, "overwrite", overwrite)
        setfield(self, "sealed_values", {} if sealed_values is EMPTY else sealed_values)

    @property
    def operation(self) -> str:
        return {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}[self.kind.value]

    @property
    def table(self) -> str:
        return str(self.params["TableName"])


def utc_time(now: datetime) -> datetime:
    """``now`` as an aware ``datetime.timezone.utc`` time (one representation everywhere)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise UsageError(
            f"the time {now.isoformat()} is naive; a DB clock (and a transaction's now) must "
            "return timezone-aware datetimes"
        )
    return now.astimezone(UTC)


def _attach(params: dict[str, Any], ph: Placeholders) -> dict[str, Any]:
    if ph.names:
        params["ExpressionAttributeNames"] = ph.names
    if ph.values:
        params["ExpressionAttributeValues"] = ph.values
    return params


def _placeholders(spec: TableSpec) -> Placeholders:
    from ._expr import Placeholders

    return Placeholders(spec=spec)


def _key_condition_exists(spec: TableSpec, exists: bool) -> Condition:
    from ._expr import attr

    path = attr(spec.partition.name)
    return path.exists() if exists else path.not_exists()


def _version_condition(spec: TableSpec, expected: int) -> Condition:
    from ._expr import attr

    assert spec.version is not None
    version = attr(spec.version.name)
    if expected == 0 and spec.compat is not Compat.DYNAMORM:
        # Version 0 is "never written": no item yet (an upsert may create it), or an item
        # stored without a version attribute (written before the model had one).
        return version.not_exists() | (version == 0)
    # Optimistic locking: the write only applies if nobody wrote since `expected` was read.
    return version == expected


def _expected_version(spec: TableSpec, expected: int | None) -> Condition | None:
    if expected is None:
        return None
    if spec.version is None:
        raise UsageError(f"{spec.model.__name__} has no Version field; drop expected_version")
    return _version_condition(spec, expected)


def _finish(
    params: dict[str, Any], ph: Placeholders, conditions: list[Condition | None]
) -> dict[str, Any]:
    """Render the AND of ``conditions`` (if any) and attach all placeholders to ``params``."""
    from ._expr import all_of, render_condition

    combined = all_of(conditions)
    if combined is not None:
        params["ConditionExpression"] = render_condition(combined, ph)
    return _attach(params, ph)


def prepare_put(
    spec: TableSpec,
    table: str,
    instance: Any,
    *,
    overwrite: bool,
    condition: Condition | None,
    now: datetime,
    skip_version_check: bool = False,
) -> PreparedWrite:
    """A PutItem that creates (default) or replaces, maintaining version and timestamps.

    ``skip_version_check`` with ``overwrite`` replaces whatever is stored, whatever its version
    (migrations, imports; DynamORM's create-or-update). The version stored follows
    ``spec.compat`` (see :func:`put_version`): the instance's version + 1 for native models,
    the version unchanged for ``Compat.DYNAMORM`` models.
    """
    if skip_version_check and not overwrite:
        raise UsageError("skip_version_check=True is a blind overwrite; pass overwrite=True too")
    now = utc_time(now)
    dynamorm = spec.compat is Compat.DYNAMORM
    changes: dict[str, Any] = {}
    if spec.created_at is not None and (
        getattr(instance, spec.created_at.name) is None
        # DynamORM stamps created_at on every create and create-or-update.
        or (dynamorm and (not overwrite or skip_version_check))
    ):
        changes[spec.created_at.name] = now
    if spec.updated_at is not None:
        changes[spec.updated_at.name] = now
    expected: int | None = None
    conditions: list[Condition | None] = []
    must_not_exist = False
    if spec.version is not None:
        current = int(getattr(instance, spec.version.name) or 0)
        changes[spec.version.name] = put_version(
            spec.compat, current, create=not overwrite, blind=skip_version_check
        )
        if overwrite and not skip_version_check:
            expected = current  # a create-only put checks that no item exists, not a version
    if not overwrite:
        must_not_exist = True
    elif expected is not None:
        # Native: version 0 (never stored) replaces only a missing item or one without a
        # version. DynamORM stores 0 on create, so there 0 is a stored version like any other.
        conditions.append(_version_condition(spec, expected))
    if must_not_exist:
        # Create-only: a concurrent writer that stored the same key first wins; we fail.
        conditions.append(_key_condition_exists(spec, exists=False))
    conditions.append(condition)
    stored = instance.model_copy(update=changes) if changes else instance
    ph = _placeholders(spec)
    params: dict[str, Any] = {"TableName": table, "Item": to_item(spec, stored)}
    return PreparedWrite(
        kind=WriteKind.PUT,
        spec=spec,
        params=_finish(params, ph, conditions),
        key=key_of(spec, stored),
        stored=stored,
        expected_version=expected,
        must_not_exist=must_not_exist,
        overwrite=overwrite,
    )


def _managed_fields(spec: TableSpec) -> frozenset[str]:
    names = {f.name for f in spec.key_fields}
    for managed in (spec.version, spec.created_at, spec.updated_at):
        if managed is not None:
            names.add(managed.name)
    return frozenset(names)


def prepare_update(
    spec: TableSpec,
    table: str,
    key: dict[str, AttributeValue],
    changes: Update,
    *,
    condition: Condition | None,
    expected_version: int | None,
    create_if_missing: bool,
    now: datetime,
) -> PreparedWrite:
    """An UpdateItem that bumps the version and timestamps in the same expression."""
    from ._update import Update

    now = utc_time(now)
    managed = Update()
    if spec.updated_at is not None:
        managed = managed.set(spec.updated_at.name, now)
    if spec.created_at is not None:
        managed = managed.set_if_not_exists(spec.created_at.name, now)
    if spec.version is not None:
        managed = managed.increment(spec.version.name, 1)
    from ._update import render_update

    ph = _placeholders(spec)
    expression = render_update(changes, ph, protected=_managed_fields(spec), managed=managed)
    conditions: list[Condition | None] = []
    if not create_if_missing:
        # UpdateItem would otherwise create a partial item under a key that does not exist.
        conditions.append(_key_condition_exists(spec, exists=True))
    conditions += [_expected_version(spec, expected_version), condition]
    params: dict[str, Any] = {"TableName": table, "Key": key, "UpdateExpression": expression}
    return PreparedWrite(
        kind=WriteKind.UPDATE,
        spec=spec,
        params=_finish(params, ph, conditions),
        key=key,
        expected_version=expected_version,
        must_exist=not create_if_missing,
        sealed_values=dict(ph.sealed),
    )


def prepare_delete(
    spec: TableSpec,
    table: str,
    key: dict[str, AttributeValue],
    *,
    condition: Condition | None,
    expected_version: int | None,
) -> PreparedWrite:
    """A DeleteItem, optionally conditional and version-checked."""
    conditions = [_expected_version(spec, expected_version), condition]
    params: dict[str, Any] = {"TableName": table, "Key": key}
    return PreparedWrite(
        kind=WriteKind.DELETE,
        spec=spec,
        params=_finish(params, _placeholders(spec), conditions),
        key=key,
        expected_version=expected_version,
    )


def prepare_condition_check(
    spec: TableSpec, table: str, key: dict[str, AttributeValue], condition: Condition
) -> PreparedWrite:
    """A transaction-only ConditionCheck on one item."""
    params: dict[str, Any] = {"TableName": table, "Key": key}
    params = _finish(params, _placeholders(spec), [condition])
    return PreparedWrite(kind=WriteKind.CHECK, spec=spec, params=params, key=key)


def explain_condition_failure(
    write: PreparedWrite,
    error: ConditionalCheckFailedError | None,
    old_item: Mapping[str, Any] | None,
    *,
    operation: str | None = None,
    raw_item: Mapping[str, AttributeValue] | None = None,
) -> AsyncDynamoError:
    """Turn a failed condition into the most specific error, using the old item if returned.

    Args:
        old_item: the stored item DynamoDB returned, decoded (attribute name → Python value).
        operation: the API call the write was part of (``TransactWriteItems``); defaults to the
            write's own single-item operation.
        raw_item: the same item in wire format, which fields with their own codec
            (``Compat.DYNAMORM`` models, ``JsonBlob``) decode ``.model_item`` from.
    """
    spec = write.spec
    if operation is None:
        operation = write.operation if write.kind is not WriteKind.CHECK else "TransactWriteItems"
    message = error.message if error is not None else "the condition of this action failed"
    found = _model_of(spec, old_item, raw_item)
    if write.must_not_exist and old_item:
        return ItemAlreadyExistsError(
            f"{spec.model.__name__} {_key_text(write)} already exists; "
            "pass overwrite=True to replace it",
            item=old_item,
            model_item=found,
            operation=operation,
        )
    versioned = (
        write.expected_version is not None
        and spec.version is not None
        and write.kind is not WriteKind.CHECK
    )
    # A missing item is not a version conflict: the caller expected an item at version n (or,
    # without create_if_missing, any item) and there is none.
    # Native version 0 may create (upsert); DynamORM's 0 is a stored version like any other.
    dynamorm = spec.compat is Compat.DYNAMORM
    if not old_item and (
        write.must_exist or (versioned and (write.expected_version != 0 or dynamorm))
    ):
        return ItemNotFoundError(
            f"{spec.model.__name__} {_key_text(write)} does not exist",
            model=spec.model.__name__,
            key={k: deserialize(v) for k, v in write.key.items()},
        )
    if versioned and old_item:
        actual = _stored_version(spec, old_item)
        upserted = write.expected_version == 0 and not actual and not dynamorm
        if actual != write.expected_version and not upserted:
            return VersionConflictError(
                f"{spec.model.__name__} {_key_text(write)}: expected version "
                f"{write.expected_version}, stored version is {actual}",
                expected_version=write.expected_version,
                actual_version=actual,
                item=old_item,
                model_item=found,
                operation=operation,
            )
    return ConditionalCheckFailedError(
        message, item=old_item, model_item=found, operation=operation
    )


def _model_of(
    spec: TableSpec, item: Mapping[str, Any] | None, raw: Mapping[str, AttributeValue] | None
) -> Any:
    if not item:
        return None
    try:
        if raw is not None and any(f.codec is not None for f in spec.fields.values()):
            return from_item(spec, raw)
        return from_attributes(spec, item)
    except ItemDecodeError:
        return None  # ``.item`` still carries every attribute


def _stored_version(spec: TableSpec, item: Mapping[str, Any]) -> int | None:
    assert spec.version is not None
    value = item.get(spec.version.attribute)
    return int(value) if value is not None else None


def _key_text(write: PreparedWrite) -> str:
    return ", ".join(f"{k}={deserialize(v)!r}" for k, v in write.key.items())


def prepare_get(
    spec: TableSpec,
    table: str,
    key: dict[str, AttributeValue],
    *,
    consistent: bool,
    projection: Sequence[str] | None,
) -> dict[str, Any]:
    """GetItem parameters, with a projection of model fields when given."""
    params: dict[str, Any] = {"TableName": table, "Key": key}
    if consistent:
        params["ConsistentRead"] = True
    if projection is not None:
        ph = _placeholders(spec)
        params["ProjectionExpression"] = projection_expression(projection, ph)
        _attach(params, ph)
    return params


def projection_expression(fields: Sequence[str | Path], ph: Placeholders) -> str:
    """``#n0, #n1.#n2`` for the given field paths (always including nothing implicit)."""
    if not fields:
        raise ExpressionError("a projection needs at least one field")
    from ._expr import attr

    return ", ".join(ph.render_path(attr(f)) for f in fields)


_ADAPTERS: dict[tuple[type[Any], str], TypeAdapter[Any]] = {}


def _adapter(spec: TableSpec, name: str) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get((spec.model, name))
    if adapter is None:
        # Projections only: pydantic loads its TypeAdapter module on first use, not on a cold start.
        from pydantic import TypeAdapter

        adapter = TypeAdapter(spec.model.model_fields[name].annotation)
        _ADAPTERS[(spec.model, name)] = adapter
    return adapter


def build_projection_validators(spec: TableSpec) -> None:
    """Build the per-field validators projections use, now (before a SnapStart snapshot)."""
    for name in spec.model.model_fields:
        _adapter(spec, name)


def decode_projection(spec: TableSpec, item: Mapping[str, AttributeValue]) -> dict[str, Any]:
    """Decode a projected item into ``{field: value}``, validating each top-level field."""
    out: dict[str, Any] = {}
    for attribute, raw in item.items():
        field = spec.by_attribute.get(attribute)
        if field is None:
            continue
        adapter = _adapter(spec, field.name)
        try:
            out[field.name] = adapter.validate_python(decode_field(field, raw))
        except PydanticValidationError as exc:
            raise ItemDecodeError(
                f"{spec.model.__name__}.{field.name} as stored does not validate (a nested "
                f"projection returns part of a value; project the whole field): {exc}",
                model=spec.model.__name__,
                item=item,
            ) from exc
    return out


def item_of(response: Mapping[str, Any], name: str) -> dict[str, AttributeValue] | None:
    value = response.get(name)
    return dict(value) if value else None


__all__ += ["check_size", "item_of", "projection_expression"]
