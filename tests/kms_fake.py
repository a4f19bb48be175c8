"""A fake KMS for unit tests: real random data keys, each bound to its key and context."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from asyncdynamo import DecryptionFailedError, ResourceNotFoundError
from asyncdynamo._client import Client
from tests.fakes import FAST_RETRY, FakeTransport

KEY_ARN = "arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555"


@dataclass
class FakeKms:
    """Answers GenerateDataKey and Decrypt like KMS (only the parts field encryption uses)."""

    keys: dict[str, str] = field(default_factory=lambda: {"alias/test": KEY_ARN, KEY_ARN: KEY_ARN})
    blobs: dict[bytes, tuple[str, dict[str, str], bytes]] = field(default_factory=dict)

    def __call__(self, operation: str, params: dict[str, Any]) -> Mapping[str, Any]:
        context = dict(params.get("EncryptionContext", {}))
        if operation == "GenerateDataKey":
            arn = self.keys.get(params["KeyId"])
            if arn is None:
                raise ResourceNotFoundError("no such key", code="NotFoundException")
            plaintext = os.urandom(32)
            blob = b"blob-" + os.urandom(24)
            self.blobs[blob] = (arn, context, plaintext)
            return {"Plaintext": plaintext, "CiphertextBlob": blob, "KeyId": arn}
        if operation == "Decrypt":
            if params.get("KeyId") not in self.keys:
                raise ResourceNotFoundError("no such key", code="NotFoundException")
            entry = self.blobs.get(bytes(params["CiphertextBlob"]))
            if entry is None or entry[1] != context or entry[0] != self.keys[params["KeyId"]]:
                raise DecryptionFailedError("bad", code="InvalidCiphertextException")
            return {"Plaintext": entry[2], "KeyId": entry[0]}
        raise AssertionError(f"unexpected KMS call {operation}")


def fake_kms_client(kms: FakeKms | None = None) -> tuple[Client, FakeTransport]:
    transport = FakeTransport(handler=kms or FakeKms())
    return Client(transport, FAST_RETRY), transport
