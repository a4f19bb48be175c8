"""Wire protocols: request params → HTTP body and headers; HTTP response → dict or error.

* DynamoDB speaks JSON 1.0 (``X-Amz-Target: DynamoDB_20120810.<Op>``); binary AttributeValues
  (``B``, ``BS``, anywhere inside ``M``/``L``) are base64 strings on the wire.
* KMS speaks JSON 1.1 (``TrentService.<Op>``); its blobs (``Plaintext``, ``CiphertextBlob``...)
  are base64 strings on the wire.
* Both send timestamps (``CreationDateTime``...) as epoch seconds; they become aware datetimes.
* STS speaks the query protocol: a form-encoded body, an XML answer.

Above this module binary values are always ``bytes``, as in botocore's low-level shapes.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from asyncdynamo._errors import ConnectionFailedError, SerializationError
from asyncdynamo._lean._http import Response

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = [
    "JsonProtocol",
    "QueryProtocol",
    "WireProtocol",
    "convert_timestamps",
    "decode_attribute_binaries",
    "protocol_for",
]


class WireProtocol:
    """How one service's requests and responses look on the wire.

    The protocols are plain slotted classes, not dataclasses: they are built at import time on
    the cold path, where each dataclass costs most of a millisecond.
    """

    __slots__ = ()
    content_type: str

    def encode(self, operation: str, params: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The request body and the protocol's signed headers (``Content-Type`` included)."""
        raise NotImplementedError

    def decode(self, operation: str, response: Response) -> dict[str, Any]:
        """The parsed response; raises the translated error for an error response."""
        raise NotImplementedError


def _metadata(request_id: str, response: Response) -> dict[str, Any]:
    # The same keys botocore puts in every response, so callers can log the request id.
    return {
        "RequestId": request_id,
        "HTTPStatusCode": response.status,
        "HTTPHeaders": response.headers,
        "RetryAttempts": 0,
    }


def _check_crc32(response: Response) -> None:
    expected = response.headers.get("x-amz-crc32")
    if (
        expected is not None
        and expected.isdigit()
        and binascii.crc32(response.body) != int(expected)
    ):
        # A body damaged in transit: the answer is unusable, and asking again may work.
        raise ConnectionFailedError(
            f"response body failed its CRC32 check (x-amz-crc32: {expected})"
        )


def _b64encode(value: bytes | bytearray | memoryview) -> str:
    return binascii.b2a_base64(value, newline=False).decode("ascii")


def _json_default(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return _b64encode(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a low-level API value")


def decode_attribute_binaries(node: Any) -> None:
    """Replace base64 ``B``/``BS`` AttributeValue members with bytes, in place, at any depth.

    Only AttributeValues have a ``"B"`` key with a string value (or ``"BS"`` with a list); an
    attribute *named* ``B`` maps to a dict, so it is walked into, not decoded.
    """
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "B" and isinstance(value, str):
                node[key] = binascii.a2b_base64(value)
            elif key == "BS" and isinstance(value, list):
                node[key] = [binascii.a2b_base64(v) if isinstance(v, str) else v for v in value]
            elif isinstance(value, dict | list):
                decode_attribute_binaries(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, dict | list):
                decode_attribute_binaries(value)


def _dynamodb_binaries(raw: bytes, document: dict[str, Any]) -> None:
    # Most responses carry no binary at all: a substring test spares the walk.
    if b'"B"' in raw or b'"BS"' in raw:
        decode_attribute_binaries(document)


# JSON protocols send timestamps as epoch seconds; botocore hands out aware datetimes, and so do
# we. Without the service model, members are recognised by name: every timestamp member of
# DynamoDB and KMS ends like this, and no numeric non-timestamp member does. Attribute values
# are dicts, so an item attribute with such a name is never converted.
_TIMESTAMP_SUFFIXES = ("DateTime", "Date", "Time", "ValidTo")
_TIMESTAMP_MARKERS = tuple(f'{suffix}"'.encode() for suffix in _TIMESTAMP_SUFFIXES)


def convert_timestamps(node: Any) -> None:
    """Replace epoch-seconds timestamp members with aware UTC datetimes, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict | list):
                convert_timestamps(value)
            elif (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and key.endswith(_TIMESTAMP_SUFFIXES)
            ):
                node[key] = datetime.fromtimestamp(value, UTC)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, dict | list):
                convert_timestamps(value)


_KMS_BLOBS = (
    "Plaintext",
    "CiphertextBlob",
    "CiphertextForRecipient",
    "PublicKey",
    "Signature",
    "Mac",
    "ImportToken",
    "KeyMaterial",
)


def _kms_binaries(raw: bytes, document: dict[str, Any]) -> None:
    for key in _KMS_BLOBS:
        value = document.get(key)
        if isinstance(value, str):
            document[key] = binascii.a2b_base64(value)


class JsonProtocol(WireProtocol):
    """The AWS JSON protocol (1.0 or 1.1) with one ``X-Amz-Target`` prefix.

    Args:
        target_prefix: ``DynamoDB_20120810``, ``TrentService``...
        content_type: ``application/x-amz-json-1.0`` or ``-1.1``.
        binaries: turns the service's base64 members into bytes, in place, given the raw body.
    """

    __slots__ = ("binaries", "content_type", "target_prefix")

    def __init__(
        self,
        target_prefix: str,
        content_type: str,
        binaries: Callable[[bytes, dict[str, Any]], None],
    ) -> None:
        self.target_prefix = target_prefix
        self.content_type = content_type
        self.binaries = binaries

    def encode(self, operation: str, params: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        try:
            body = json.dumps(
                params, separators=(",", ":"), default=_json_default, allow_nan=False
            ).encode()
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"{operation} parameters cannot be sent: {exc}") from exc
        headers = {
            "Content-Type": self.content_type,
            "X-Amz-Target": f"{self.target_prefix}.{operation}",
        }
        return body, headers

    def decode(self, operation: str, response: Response) -> dict[str, Any]:
        _check_crc32(response)
        raw = response.body
        if response.status != 200:
            raise self._error(operation, response)
        try:
            document = json.loads(raw) if raw else {}
        except ValueError as exc:
            raise ConnectionFailedError(f"{operation}: response is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise ConnectionFailedError(f"{operation}: response is not a JSON object")
        self.binaries(raw, document)
        if any(marker in raw for marker in _TIMESTAMP_MARKERS):
            convert_timestamps(document)
        document["ResponseMetadata"] = _metadata(
            response.headers.get("x-amzn-requestid", ""), response
        )
        return document

    def _error(self, operation: str, response: Response) -> Exception:
        raw = response.body
        try:
            document = json.loads(raw) if raw else {}
        except ValueError:
            document = {}
        if not isinstance(document, dict):
            document = {}
        # Some front ends only set the header. Either form may carry a namespace and a URL
        # suffix, "aws.protocols#ValidationException:http://internal...", as in botocore.
        code = str(document.get("__type") or document.get("code") or "")
        if not code:
            code = response.headers.get("x-amzn-errortype", "")
        code = code.partition(":")[0].rpartition("#")[2]
        message = str(document.get("message") or document.get("Message") or "")
        if not message and not document:
            message = f"HTTP {response.status}: {raw[:200].decode('utf-8', 'replace')}"
        self.binaries(raw, document)  # ``Item`` of a failed condition may hold binaries
        from asyncdynamo._error_table import error_from_service  # an error answer's first use

        return error_from_service(
            code, message, operation=operation, status=response.status, body=document
        )


# --- the query protocol (STS) -------------------------------------------------------------------

# Leaf elements whose text is not a string in botocore's shapes.
_XML_TIMESTAMPS = frozenset({"Expiration"})
_XML_INTEGERS = frozenset({"PackedPolicySize", "DurationSeconds"})


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    elif isinstance(value, list | tuple):
        if not value:
            out.append((prefix, ""))  # botocore sends an empty list as an empty value
        for index, item in enumerate(value, 1):
            _flatten(f"{prefix}.member.{index}", item, out)
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    elif isinstance(value, datetime):
        out.append((prefix, value.isoformat()))
    elif isinstance(value, bytes | bytearray | memoryview):
        out.append((prefix, _b64encode(value)))
    else:
        out.append((prefix, str(value)))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _xml_value(element: Element) -> Any:
    children = list(element)
    tag = _local(element.tag)
    if not children:
        text = (element.text or "").strip()
        if tag in _XML_TIMESTAMPS and text:
            stamp = datetime.fromisoformat(text)
            return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)
        if tag in _XML_INTEGERS and text.lstrip("-").isdigit():
            return int(text)
        return text
    if all(_local(child.tag) == "member" for child in children):
        return [_xml_value(child) for child in children]
    return {_local(child.tag): _xml_value(child) for child in children}


def _find(element: Element, name: str) -> Element | None:
    for child in element.iter():
        if _local(child.tag) == name:
            return child
    return None


class QueryProtocol(WireProtocol):
    """The AWS query protocol: ``Action=<Op>&Version=<api version>&...``, XML responses.

    Args:
        api_version: the ``Version`` parameter (``2011-06-15`` for STS).
    """

    __slots__ = ("api_version", "content_type")

    def __init__(self, api_version: str) -> None:
        self.api_version = api_version
        self.content_type = "application/x-www-form-urlencoded; charset=utf-8"

    def encode(self, operation: str, params: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        pairs = [("Action", operation), ("Version", self.api_version)]
        _flatten("", params, pairs)
        body = "&".join(
            f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in pairs
        )
        return body.encode(), {"Content-Type": self.content_type}

    def decode(self, operation: str, response: Response) -> dict[str, Any]:
        # Imported here: only STS needs XML, and DynamoDB's cold path should not pay for it.
        from xml.etree.ElementTree import ParseError, fromstring

        try:
            root = fromstring(response.body) if response.body else None
        except ParseError:
            root = None
        if response.status != 200:
            raise self._error(operation, response, root)
        if root is None:
            raise ConnectionFailedError(f"{operation}: response is not XML")
        result = _find(root, f"{operation}Result")
        document = _xml_value(result) if result is not None else {}
        if not isinstance(document, dict):
            document = {}
        request_id = _find(root, "RequestId")
        document["ResponseMetadata"] = _metadata(
            (request_id.text or "") if request_id is not None else "", response
        )
        return document

    def _error(self, operation: str, response: Response, root: Element | None) -> Exception:
        code = message = ""
        body: dict[str, Any] = {}
        error = _find(root, "Error") if root is not None else None
        if error is not None:
            value = _xml_value(error)
            if isinstance(value, dict):
                body = value
                code = str(body.get("Code", ""))
                message = str(body.get("Message", ""))
        if not message:
            message = f"HTTP {response.status}: {response.body[:200].decode('utf-8', 'replace')}"
        from asyncdynamo._error_table import error_from_service

        return error_from_service(
            code, message, operation=operation, status=response.status, body=body
        )


_PROTOCOLS: dict[str, WireProtocol] = {
    "dynamodb": JsonProtocol("DynamoDB_20120810", "application/x-amz-json-1.0", _dynamodb_binaries),
    "kms": JsonProtocol("TrentService", "application/x-amz-json-1.1", _kms_binaries),
    "sts": QueryProtocol("2011-06-15"),
}

SERVICES = tuple(sorted(_PROTOCOLS))


def protocol_for(service: str) -> WireProtocol:
    """The wire protocol of ``service``.

    Raises:
        KeyError: the lean transport does not speak to that service.
    """
    return _PROTOCOLS[service]
