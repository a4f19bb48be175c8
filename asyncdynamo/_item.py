"""Model instances ⇄ DynamoDB items, keys and item sizes (pure functions over a TableSpec)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import SecretBytes, SecretStr
from pydantic import ValidationError as PydanticValidationError

from ._codec import AttributeValue, deserialize, serialize
from ._errors import InvalidKeyError, ItemDecodeError, ItemTooLargeError, SerializationError
from ._spec import FieldSpec, TableSpec, ValueKind

__all__ = [
    "MAX_ITEM_BYTES",
    "check_index_key",
    "decode_datetime",
    "decode_field",
    "encode_field",
    "from_attributes",
    "from_item",
    "item_size",
    "key_from_values",
    "key_of",
    "to_item",
    "value_size",
]

T = TypeVar("T")

MAX_ITEM_BYTES = 400 * 1024
_NOTHING: Any = object()


def encode_field(spec: FieldSpec, value: Any) -> AttributeValue | None:
    """The AttributeValue stored for ``value`` in this field, or ``None`` to leave it out."""
    if spec.codec is not None:
        return _encode_with_codec(spec, value)
    if value is None:
        return None if spec.omit_empty or spec.kind is ValueKind.SET else {"NULL": True}
    if isinstance(value, SecretStr | SecretBytes):
        value = value.get_secret_value()  # stored as the str/bytes it hides (sealed if Encrypted)
    if spec.is_ttl and isinstance(value, datetime):
        if value.tzinfo is None:
            raise SerializationError(f"{spec.name}: TTL datetime must be timezone-aware")
        return {"N": str(int(value.timestamp()))}
    if spec.json_adapter is not None:
        # pydantic reads a Json[...] field only from JSON text: store the text it round-trips.
        value = spec.json_adapter.dump_python(value, round_trip=True)
    if spec.kind is ValueKind.SET and not value:
        return None  # DynamoDB has no empty set; from_item restores it
    if spec.omit_empty and (
        value == "" or value == b"" or (hasattr(value, "__len__") and not len(value))
    ):
        return None
    try:
        return serialize(value)
    except SerializationError as exc:
        raise SerializationError(f"{spec.name}: {exc}") from exc


def _encode_with_codec(spec: FieldSpec, value: Any) -> AttributeValue | None:
    if isinstance(value, SecretStr | SecretBytes):
        value = value.get_secret_value()  # stored as the str/bytes it hides (sealed if Encrypted)
    if spec.json_adapter is not None and value is not None:
        value = spec.json_adapter.dump_python(value, round_trip=True)
    try:
        return spec.codec.encode(value)  # type: ignore[union-attr]
    except SerializationError as exc:
        raise SerializationError(f"{spec.name}: {exc}") from exc


def decode_field(spec: FieldSpec, value: Mapping[str, Any]) -> Any:
    """The Python value of a stored AttributeValue of this field (before model validation)."""
    if spec.codec is not None:
        return spec.codec.decode(value)
    decoded = deserialize(value)
    return decode_datetime(decoded) if spec.is_datetime else decoded


def to_item(spec: TableSpec, instance: Any) -> dict[str, AttributeValue]:
    """Encode a model instance as a DynamoDB item, checking keys and the 400 KB limit.

    The item holds the field values the instance holds, encoded by the codec, never the
    model's ``model_dump()`` output view: ``Field(exclude=True)`` fields are stored, and a
    ``field_serializer`` (e.g. one that masks a card number for an API response) does not
    change what is stored. Nested models are stored under the keys pydantic reads them from.
    """
    item: dict[str, AttributeValue] = {}
    index_keys = spec.index_key_attributes
    for field in spec.fields.values():
        value = getattr(instance, field.name)
        if value is None and field.attribute in index_keys:
            continue  # sparse index: absent, since a NULL index key is rejected by DynamoDB
        encoded = encode_field(field, value)
        if encoded is not None:
            if field.attribute in index_keys:
                check_index_key(spec, field, encoded)
            item[field.attribute] = encoded
    for key_field in spec.key_fields:
        _check_key_value(spec, key_field, item.get(key_field.attribute))
    if not spec.encrypted:  # an item with Encrypted fields is checked once sealed (larger)
        check_size(spec, item)
    return item


def check_size(spec: TableSpec, item: Mapping[str, AttributeValue]) -> None:
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise ItemTooLargeError(
            f"{spec.model.__name__} item is {size} bytes; DynamoDB's limit is 400 KB ({MAX_ITEM_BYTES}) "
            "(move large blobs to S3 and store a reference)",
            size=size,
        )


def decode_datetime(value: Any) -> Any:
    """A stored datetime as an aware ``datetime`` in ``datetime.timezone.utc``.

    pydantic would parse the stored text into its own ``TzInfo(UTC)``, so an item read back
    would differ in ``tzinfo`` from the one ``put`` returned; anything unexpected is left for
    the model to validate (and reject).
    """
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed.astimezone(UTC) if parsed.tzinfo is not None else value
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return datetime.fromtimestamp(int(value), UTC)  # a TTL: epoch seconds
    except (ValueError, OverflowError, OSError):
        pass
    return value


def from_item(spec: TableSpec, item: Mapping[str, AttributeValue]) -> Any:
    """Decode a DynamoDB item into a validated model instance (unknown attributes are ignored)."""
    data: dict[str, Any] = {}
    by_attribute = spec.by_attribute
    for attribute, value in item.items():
        field = by_attribute.get(attribute)
        if field is not None:
            data[field.validation_key] = decode_field(field, value)
    return _validate(spec, data, item)


def from_attributes(spec: TableSpec, attributes: Mapping[str, Any]) -> Any:
    """Like :func:`from_item`, for an item already decoded (attribute name → Python value)."""
    data: dict[str, Any] = {}
    for attribute, value in attributes.items():
        field = spec.by_attribute.get(attribute)
        if field is not None:
            data[field.validation_key] = decode_datetime(value) if field.is_datetime else value
    return _validate(spec, data, attributes)


def _validate(spec: TableSpec, data: dict[str, Any], item: Mapping[str, Any]) -> Any:
    for field in spec.set_fields:
        data.setdefault(field.validation_key, set())
    try:
        return spec.model.model_validate(data)
    except PydanticValidationError as exc:
        if spec.encrypted:
            raise _redacted_decode_error(spec, item, exc) from None
        raise ItemDecodeError(
            f"a stored {spec.model.__name__} item does not match the model: {exc}",
            model=spec.model.__name__,
            item=item,
        ) from exc


def _redacted_decode_error(
    spec: TableSpec, item: Mapping[str, AttributeValue], exc: PydanticValidationError
) -> ItemDecodeError:
    # pydantic's message quotes input values, and the item holds opened (plaintext) values of
    # Encrypted fields: say which fields failed and why, without values, and keep no cause.
    problems = "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False, include_context=False)
    )
    hidden = {f.attribute for f in spec.encrypted}
    return ItemDecodeError(
        f"a stored {spec.model.__name__} item does not match the model: {problems}",
        model=spec.model.__name__,
        item={k: ({"B": b"<encrypted>"} if k in hidden else v) for k, v in item.items()},
    )


def check_index_key(spec: TableSpec, field: FieldSpec, value: AttributeValue) -> None:
    """DynamoDB rejects an empty string or binary as a secondary-index key value."""
    ((tag, raw),) = value.items()
    if tag in ("S", "B") and not raw:
        raise InvalidKeyError(
            f"{spec.model.__name__}.{field.name} is an index key; DynamoDB rejects empty key "
            "values (use None to leave the item out of the index)"
        )


def _check_key_value(spec: TableSpec, field: FieldSpec, value: AttributeValue | None) -> None:
    label = f"{spec.model.__name__}.{field.name}"
    if value is None or "NULL" in value:
        raise InvalidKeyError(f"{label} is a key attribute and needs a value")
    ((tag, raw),) = value.items()
    if tag != field.key_type:
        raise InvalidKeyError(
            f"{label} is a key of type {field.key_type}; the value given encodes as {tag}"
        )
    if tag in ("S", "B") and not raw:
        raise InvalidKeyError(f"{label} is a key attribute; DynamoDB rejects empty key values")
    if tag == "S" and value_size(value) > (2048 if field is spec.partition else 1024):
        raise InvalidKeyError(f"{label} is longer than DynamoDB allows for a key")


def key_from_values(
    spec: TableSpec, partition: Any, sort: Any = _NOTHING
) -> dict[str, AttributeValue]:
    """Build the primary key of ``spec``'s model from raw key values, checking types."""
    key: dict[str, AttributeValue] = {}
    for field, value in ((spec.partition, partition), (spec.sort, sort)):
        if field is None:
            if value is not _NOTHING and value is not None:
                raise InvalidKeyError(
                    f"{spec.model.__name__} has no sort key; pass only the partition key"
                )
            continue
        if value is _NOTHING:
            raise InvalidKeyError(
                f"{spec.model.__name__} has a sort key ({field.name}); pass it too"
            )
        encoded = encode_field(field, value) if value is not None else None
        _check_key_value(spec, field, encoded)
        assert encoded is not None
        key[field.attribute] = encoded
    return key


def key_of(spec: TableSpec, instance: Any) -> dict[str, AttributeValue]:
    """The primary key of a model instance."""
    partition = getattr(instance, spec.partition.name)
    sort = getattr(instance, spec.sort.name) if spec.sort is not None else _NOTHING
    return key_from_values(spec, partition, sort)


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").split("e")[0].split("E")[0].strip("0")
    return 1 + (len(digits) + 1) // 2 + (1 if text.startswith("-") else 0)


def _value_size(value: Mapping[str, Any]) -> int:
    ((tag, raw),) = value.items()
    if tag == "S":
        return len(raw.encode())
    if tag == "N":
        return _number_size(raw)
    if tag == "B":
        return len(raw)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(len(s.encode()) for s in raw)
    if tag == "NS":
        return sum(_number_size(n) for n in raw)
    if tag == "BS":
        return sum(len(b) for b in raw)
    if tag == "L":
        return 3 + sum(1 + _value_size(v) for v in raw)
    if tag == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in raw.items())
    return 0


def item_size(item: Mapping[str, AttributeValue]) -> int:
    """The item's size as DynamoDB counts it (names plus values), for the 400 KB limit.

    Raises:
        SerializationError: a string or name holds a lone surrogate (it has no UTF-8 form).
    """
    try:
        return sum(len(name.encode()) + _value_size(value) for name, value in item.items())
    except UnicodeEncodeError as exc:
        raise _surrogate_error(exc) from None


def value_size(value: AttributeValue) -> int:
    """One AttributeValue's size as DynamoDB counts it (see :func:`item_size`)."""
    try:
        return _value_size(value)
    except UnicodeEncodeError as exc:
        raise _surrogate_error(exc) from None


def _surrogate_error(exc: UnicodeEncodeError) -> SerializationError:
    # The text itself is left out: it may be a secret (a card number, a token).
    return SerializationError(
        f"a string holds a lone surrogate at position {exc.start} ({exc.reason}); DynamoDB "
        "stores UTF-8, which cannot encode it (decode the text properly before storing it)"
    )
