"""AES-256-GCM: the one module that imports ``cryptography`` (loaded on first encrypted use)."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._errors import DecryptionFailedError
from ._format import NONCE_BYTES

__all__ = ["new_cipher", "new_nonce", "open_sealed", "seal"]


def new_cipher(key: bytes) -> AESGCM:
    """A cipher for one 256-bit data key."""
    if len(key) != 32:
        raise DecryptionFailedError("KMS returned a data key that is not 256 bits")
    return AESGCM(key)


def new_nonce() -> bytes:
    """A fresh random 96-bit nonce (never reused: 2**-32 collision odds at 2**32 values/key)."""
    return os.urandom(NONCE_BYTES)


def seal(cipher: AESGCM, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Ciphertext followed by the 16-byte tag."""
    return cipher.encrypt(nonce, plaintext, aad)


def open_sealed(cipher: AESGCM, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    """The plaintext, or :class:`DecryptionFailedError` if anything was changed or moved."""
    try:
        return cipher.decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionFailedError(
            "an encrypted value failed authentication: it was changed, or copied from another "
            "item, attribute or table"
        ) from None
