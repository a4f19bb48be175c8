"""AWS Signature Version 4 for header-signed requests (hashlib + hmac only)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from urllib.parse import quote

from asyncdynamo._config import Credentials

__all__ = ["SigV4Signer", "amz_date_now"]

_ALGORITHM = "AWS4-HMAC-SHA256"
# Headers a proxy or the HTTP layer may rewrite; botocore leaves them out of the signature too.
_UNSIGNED = frozenset({"expect", "transfer-encoding", "user-agent", "x-amzn-trace-id"})
# A signing key depends only on the day, so a process needs a handful at most; the bound only
# protects against a provider that rotates secrets very often.
_MAX_CACHED_KEYS = 8


def amz_date_now() -> str:
    """The current UTC time in SigV4's ``YYYYMMDD'T'HHMMSS'Z'`` form."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def _trim(value: str) -> str:
    # SigV4's Trimall: strip and collapse inner runs of whitespace to one space.
    return " ".join(value.split())


class SigV4Signer:
    """Signs requests for one service in one region.

    The derived signing key is cached per ``(secret, date, region, service)``, so steady-state
    signing costs two SHA-256 digests and one HMAC.

    Args:
        region: the signing region (the credential scope's region).
        service: the signing name (``"dynamodb"``, ``"kms"``, ``"sts"``).
    """

    __slots__ = ("_keys", "region", "service")

    def __init__(self, region: str, service: str) -> None:
        self.region = region
        self.service = service
        self._keys: dict[tuple[str, str, str, str], bytes] = {}

    def _signing_key(self, secret: str, date: str) -> bytes:
        cache_key = (secret, date, self.region, self.service)
        key = self._keys.get(cache_key)
        if key is None:
            key = hmac.digest(("AWS4" + secret).encode(), date.encode(), "sha256")
            key = hmac.digest(key, self.region.encode(), "sha256")
            key = hmac.digest(key, self.service.encode(), "sha256")
            key = hmac.digest(key, b"aws4_request", "sha256")
            if len(self._keys) >= _MAX_CACHED_KEYS:
                self._keys.clear()
            self._keys[cache_key] = key
        return key

    def sign(
        self,
        credentials: Credentials,
        *,
        method: str,
        host: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        query: Iterable[tuple[str, str]] = (),
        amz_date: str | None = None,
    ) -> dict[str, str]:
        """Compute the headers that authenticate one request.

        Every header in ``headers`` is signed (except the few proxies may rewrite), together with
        ``host``, ``x-amz-date`` and, for temporary credentials, ``x-amz-security-token``.

        Args:
            credentials: the credentials to sign with.
            method: the HTTP method.
            host: the ``Host`` header value (with the port when it is not the default).
            path: the request path, not yet URI-encoded.
            headers: the other headers that will be sent.
            body: the exact request body.
            query: query parameters, not yet URI-encoded.
            amz_date: the signing time (``amz_date_now()`` when omitted; tests pin it).

        Returns:
            ``X-Amz-Date``, ``X-Amz-Security-Token`` (when there is a session token) and
            ``Authorization``, to add to the request's headers.
        """
        if amz_date is None:
            amz_date = amz_date_now()
        date = amz_date[:8]
        extra = {"X-Amz-Date": amz_date}
        if credentials.session_token:
            extra["X-Amz-Security-Token"] = credentials.session_token

        signed: dict[str, list[str]] = {"host": [_trim(host)]}
        for source in (headers, extra):
            for name, value in source.items():
                lower = name.lower()
                if lower not in _UNSIGNED:
                    signed.setdefault(lower, []).append(_trim(value))
        names = sorted(signed)
        canonical_headers = "".join(f"{name}:{','.join(signed[name])}\n" for name in names)
        signed_headers = ";".join(names)
        canonical_query = "&".join(
            f"{k}={v}"
            for k, v in sorted(
                (quote(key, safe="-_.~"), quote(value, safe="-_.~")) for key, value in query
            )
        )
        canonical_request = "\n".join(
            (
                method.upper(),
                quote(path or "/", safe="/~"),
                canonical_query,
                canonical_headers,
                signed_headers,
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        string_to_sign = "\n".join(
            (
                _ALGORITHM,
                amz_date,
                scope,
                hashlib.sha256(canonical_request.encode()).hexdigest(),
            )
        )
        signature = hmac.digest(
            self._signing_key(credentials.secret_access_key, date),
            string_to_sign.encode(),
            "sha256",
        ).hex()
        extra["Authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
            f"SignedHeaders={signed_headers}, Signature={signature}"
        )
        return extra
