"""The stored envelope of one encrypted value, byte by byte, and the data it is bound to.

A sealed value is stored as a DynamoDB binary (``B``) attribute::

    offset      size  field
    0           1     format version, 0x01
    1           2     K, length of the key ARN (unsigned, big-endian)
    3           K     ARN of the KMS key that encrypted the data key (UTF-8)
    3+K         2     E, length of the encrypted data key (unsigned, big-endian)
    5+K         E     the encrypted data key (KMS ``CiphertextBlob``)
    5+K+E       12    AES-GCM nonce (random per value)
    17+K+E      n+16  AES-256-GCM ciphertext of the n plaintext bytes, then the 16-byte tag

The *header* is bytes ``0 .. 5+K+E``. The associated data authenticated with the ciphertext is
the header followed by the *binding*::

    2 + len   table name (length-prefixed UTF-8, lengths 2 bytes big-endian)
    2 + len   attribute name
    1         number of primary-key attributes (1 or 2)
    per key attribute, sorted by name:
      2 + len   attribute name
      1         type: S, N or B (ASCII)
      4 + len   value: S as UTF-8, N as its canonical decimal text, B raw

so a value copied to another table, item or attribute, or with any byte changed, fails to open.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .._codec import AttributeValue
from .._errors import DecryptionFailedError

__all__ = [
    "FORMAT_VERSION",
    "NONCE_BYTES",
    "TAG_BYTES",
    "Envelope",
    "binding",
    "header",
    "key_binding",
]

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def header(key_arn: str, encrypted_key: bytes) -> bytes:
    """Version, key ARN and encrypted data key: the part shared by values under one data key."""
    arn = key_arn.encode()
    if len(arn) > 0xFFFF or len(encrypted_key) > 0xFFFF:
        raise ValueError("KMS returned a key ARN or data key too long for the format")
    return b"".join(
        (
            bytes((FORMAT_VERSION,)),
            _U16.pack(len(arn)),
            arn,
            _U16.pack(len(encrypted_key)),
            encrypted_key,
        )
    )


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed sealed value (see the module docstring for the layout)."""

    key_arn: str
    encrypted_key: bytes
    header: bytes
    nonce: bytes
    ciphertext: bytes

    @classmethod
    def parse(cls, blob: bytes) -> Envelope:
        """Split a stored value, or raise :class:`DecryptionFailedError` if it is malformed."""
        data = bytes(blob)
        try:
            if data[0] != FORMAT_VERSION:
                raise DecryptionFailedError(
                    f"an encrypted value has format version {data[0]}; this version reads "
                    f"{FORMAT_VERSION}"
                )
            (arn_length,) = _U16.unpack_from(data, 1)
            at = 3 + arn_length
            arn = data[3:at].decode()
            (key_length,) = _U16.unpack_from(data, at)
            at += 2
            encrypted_key = data[at : at + key_length]
            at += key_length
        except (IndexError, struct.error, UnicodeDecodeError) as exc:
            raise DecryptionFailedError("an encrypted value is malformed") from exc
        if len(encrypted_key) != key_length or len(data) < at + NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailedError("an encrypted value is truncated")
        return cls(
            key_arn=arn,
            encrypted_key=encrypted_key,
            header=data[:at],
            nonce=data[at : at + NONCE_BYTES],
            ciphertext=data[at + NONCE_BYTES :],
        )


def _text(value: str) -> bytes:
    raw = value.encode()
    return _U16.pack(len(raw)) + raw


def _key_value(tag: str, raw: object) -> bytes:
    if tag == "S" and isinstance(raw, str):
        data = raw.encode()
    elif tag == "N" and isinstance(raw, str):
        # DynamoDB normalises number keys (1.0 is stored and returned as 1): bind the value.
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise DecryptionFailedError("a key number is not a number") from exc
        data = b"0" if number.is_zero() else format(number.normalize(), "f").encode()
    elif tag == "B" and isinstance(raw, bytes | bytearray | memoryview):
        data = bytes(raw)
    else:
        raise DecryptionFailedError(f"a key attribute of type {tag} cannot bind a value")
    return tag.encode() + _U32.pack(len(data)) + data


def key_binding(key: Mapping[str, AttributeValue]) -> bytes:
    """The primary-key part of :func:`binding` (the same for every attribute of an item)."""
    parts = [bytes((len(key),))]
    for name in sorted(key):
        ((tag, raw),) = key[name].items()
        parts.append(_text(name) + _key_value(tag, raw))
    return b"".join(parts)


def binding(
    table: str, attribute: str, key: Mapping[str, AttributeValue], key_part: bytes | None = None
) -> bytes:
    """What a value is bound to: its table, attribute and the item's primary key.

    ``key_part`` is ``key_binding(key)`` when the caller already has it.
    """
    if key_part is None:
        key_part = key_binding(key)
    return _text(table) + _text(attribute) + key_part
