"""DynamORM's encrypted-field envelope (DMS ``encryption: {v: 1}``), read and written.

Stored value: a map ``{"v": N 1, "edk": B, "nonce": B, "ct": B}``: the KMS-encrypted AES-256
data key, the 12-byte AES-GCM nonce and the ciphertext with its 16-byte tag. The associated
data is ``dynamorm:encrypted:v1|attr=<attribute name>`` (UTF-8), as DynamORM's encryption design
documents, so a ciphertext moved to another attribute fails to open. DynamORM asks KMS for the
data key without an encryption context.

The plaintext is the attribute value as JSON: ``{"t": <type>, <lower-case type>: <value>}``,
binary values in standard base64 (``{"t":"S","s":"x"}``, ``{"t":"N","n":"1.5"}``,
``{"t":"M","m":{"a":{...}}}``, ``{"t":"SS","ss":[...]}``; ``NULL`` as ``{"t":"NULL","null":true}``).

This module is pure apart from the two KMS calls, which the caller supplies (see
:func:`kms_data_keys`); ``cryptography`` is imported only when a value is sealed or opened.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .._codec import AttributeValue
from ._errors import InvalidEnvelopeError

__all__ = [
    "DataKeySource",
    "DmsEnvelope",
    "envelope_aad",
    "is_envelope",
    "kms_data_keys",
    "open_envelope",
    "open_value",
    "parse_envelope",
    "plaintext_of",
    "seal_envelope",
    "seal_value",
    "value_of_plaintext",
]

ENVELOPE_VERSION = "1"
NONCE_BYTES = 12
_KEYS = frozenset({"v", "edk", "nonce", "ct"})
_SCALAR_TAGS = ("S", "N", "B", "BOOL", "NULL")


def envelope_aad(attribute: str) -> bytes:
    """The AES-GCM associated data that binds an envelope to its attribute name."""
    return f"dynamorm:encrypted:v1|attr={attribute}".encode()


@dataclass(frozen=True, slots=True)
class DmsEnvelope:
    """The parts of one stored envelope."""

    encrypted_key: bytes
    nonce: bytes
    ciphertext: bytes

    def __repr__(self) -> str:
        return f"DmsEnvelope(ciphertext={len(self.ciphertext)} bytes)"

    def to_attribute_value(self) -> AttributeValue:
        return {
            "M": {
                "v": {"N": ENVELOPE_VERSION},
                "edk": {"B": self.encrypted_key},
                "nonce": {"B": self.nonce},
                "ct": {"B": self.ciphertext},
            }
        }


def is_envelope(value: Mapping[str, Any]) -> bool:
    """Whether a stored AttributeValue has the shape of a DynamORM envelope."""
    inner = value.get("M")
    return isinstance(inner, Mapping) and set(inner) == _KEYS


def _binary(inner: Mapping[str, Any], name: str, attribute: str, *, empty_ok: bool) -> bytes:
    value = inner.get(name)
    raw = value.get("B") if isinstance(value, Mapping) else None
    if isinstance(raw, str):  # an endpoint that hands back base64 text
        raw = base64.b64decode(raw)
    if not isinstance(raw, bytes | bytearray) or (not raw and not empty_ok):
        raise InvalidEnvelopeError(
            f"envelope field {name!r} is missing or empty", attribute=attribute
        )
    return bytes(raw)


def parse_envelope(value: Mapping[str, Any], attribute: str) -> DmsEnvelope:
    """The parts of a stored envelope, or InvalidEnvelopeError (never a partial result)."""
    inner = value.get("M")
    if not isinstance(inner, Mapping):
        raise InvalidEnvelopeError("expected an encrypted envelope map", attribute=attribute)
    version = inner.get("v")
    if not isinstance(version, Mapping) or version.get("N") != ENVELOPE_VERSION:
        raise InvalidEnvelopeError(
            f"unsupported envelope version {version!r} (only 1)", attribute=attribute
        )
    return DmsEnvelope(
        encrypted_key=_binary(inner, "edk", attribute, empty_ok=False),
        nonce=_binary(inner, "nonce", attribute, empty_ok=False),
        ciphertext=_binary(inner, "ct", attribute, empty_ok=True),
    )


# --- the plaintext: one AttributeValue as JSON --------------------------------------------------


def _b64(data: Any) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _to_json(value: Mapping[str, Any]) -> dict[str, Any]:
    ((tag, raw),) = value.items()
    if tag in ("S", "N"):
        return {"t": tag, tag.lower(): raw}
    if tag == "B":
        return {"t": "B", "b": _b64(raw)}
    if tag == "BOOL":
        return {"t": "BOOL", "bool": bool(raw)}
    if tag == "NULL":
        return {"t": "NULL", "null": True}
    if tag in ("SS", "NS"):
        return {"t": tag, tag.lower(): list(raw)}
    if tag == "BS":
        return {"t": "BS", "bs": [_b64(item) for item in raw]}
    if tag == "L":
        return {"t": "L", "l": [_to_json(item) for item in raw]}
    if tag == "M":
        return {"t": "M", "m": {key: _to_json(item) for key, item in raw.items()}}
    raise ValueError(f"unknown AttributeValue type {tag!r}")


def _from_json(data: Any) -> AttributeValue:
    if not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise ValueError("a value has no type")
    tag: str = data["t"]
    field = tag.lower()
    if tag in ("S", "N"):
        if not isinstance(data.get(field), str):
            raise ValueError(f"{tag} value is not text")
        return {tag: data[field]}
    if tag == "B":
        return {"B": base64.b64decode(data.get("b", ""), validate=True)}
    if tag == "BOOL":
        return {"BOOL": bool(data.get("bool", False))}
    if tag == "NULL":
        return {"NULL": True}
    if tag in ("SS", "NS"):
        return {tag: [str(item) for item in data.get(field) or []]}
    if tag == "BS":
        return {"BS": [base64.b64decode(item, validate=True) for item in data.get("bs") or []]}
    if tag == "L":
        return {"L": [_from_json(item) for item in data.get("l") or []]}
    if tag == "M":
        return {"M": {key: _from_json(item) for key, item in (data.get("m") or {}).items()}}
    raise ValueError(f"unknown type {tag!r}")


def plaintext_of(value: Mapping[str, Any]) -> bytes:
    """The bytes DynamORM encrypts for one AttributeValue."""
    return json.dumps(_to_json(value), separators=(",", ":"), ensure_ascii=False).encode()


def value_of_plaintext(data: bytes, attribute: str) -> AttributeValue:
    """The AttributeValue a decrypted plaintext holds."""
    try:
        return _from_json(json.loads(data))
    except (ValueError, UnicodeDecodeError, binascii.Error, TypeError) as exc:
        raise InvalidEnvelopeError(
            "the decrypted value is not an encoded attribute value", attribute=attribute
        ) from exc


# --- sealing and opening with a data key ------------------------------------------------------


def _aesgcm(data_key: bytes, attribute: str) -> Any:
    if len(data_key) != 32:
        raise InvalidEnvelopeError("the data key is not 32 bytes (AES-256)", attribute=attribute)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(data_key)


def open_envelope(envelope: DmsEnvelope, data_key: bytes, attribute: str) -> AttributeValue:
    """Decrypt an envelope with its (already decrypted) data key.

    Raises:
        InvalidEnvelopeError: wrong key, wrong attribute, or any byte changed.
    """
    from cryptography.exceptions import InvalidTag

    try:
        plaintext = _aesgcm(data_key, attribute).decrypt(
            envelope.nonce, envelope.ciphertext, envelope_aad(attribute)
        )
    except (InvalidTag, ValueError) as exc:
        raise InvalidEnvelopeError(
            "the envelope does not open: other key, other attribute, or altered",
            attribute=attribute,
        ) from exc
    return value_of_plaintext(plaintext, attribute)


def seal_envelope(
    value: Mapping[str, Any],
    data_key: bytes,
    encrypted_key: bytes,
    attribute: str,
    *,
    nonce: bytes | None = None,
) -> DmsEnvelope:
    """Encrypt one AttributeValue as DynamORM does (``nonce``: only for tests; random else)."""
    used = os.urandom(NONCE_BYTES) if nonce is None else nonce
    ciphertext = _aesgcm(data_key, attribute).encrypt(
        used, plaintext_of(value), envelope_aad(attribute)
    )
    return DmsEnvelope(encrypted_key=bytes(encrypted_key), nonce=used, ciphertext=ciphertext)


# --- with KMS --------------------------------------------------------------------------------

DataKeySource = tuple[
    Callable[[], Awaitable[tuple[bytes, bytes]]], Callable[[bytes], Awaitable[bytes]]
]
"""``(generate, decrypt)``: a new ``(plaintext, encrypted)`` data key; an encrypted key's
plaintext."""


def kms_data_keys(kms: Any, key_id: str) -> DataKeySource:
    """Data keys from KMS as DynamORM uses them (AES-256, no encryption context).

    Args:
        kms: a client with ``await call(operation, params)`` for KMS (e.g. ``Client`` over
            ``create_transport(config, service="kms")``).
        key_id: the KMS key ARN DynamORM is configured with.
    """

    async def generate() -> tuple[bytes, bytes]:
        reply = await kms.call("GenerateDataKey", {"KeyId": key_id, "KeySpec": "AES_256"})
        return bytes(reply["Plaintext"]), bytes(reply["CiphertextBlob"])

    async def decrypt(encrypted_key: bytes) -> bytes:
        reply = await kms.call("Decrypt", {"CiphertextBlob": encrypted_key, "KeyId": key_id})
        return bytes(reply["Plaintext"])

    return generate, decrypt


async def open_value(
    value: Mapping[str, Any], attribute: str, keys: DataKeySource
) -> AttributeValue:
    """The AttributeValue inside a stored DynamORM envelope (decrypting its data key)."""
    envelope = parse_envelope(value, attribute)
    data_key = await keys[1](envelope.encrypted_key)
    return open_envelope(envelope, data_key, attribute)


async def seal_value(
    value: Mapping[str, Any], attribute: str, keys: DataKeySource
) -> AttributeValue:
    """A DynamORM envelope for one AttributeValue, under a fresh data key."""
    data_key, encrypted_key = await keys[0]()
    return seal_envelope(value, data_key, encrypted_key, attribute).to_attribute_value()
