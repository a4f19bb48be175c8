"""moto's server made to behave like DynamoDB where tests depend on it.

moto's threaded server runs each request on its own thread, and its DynamoDB backend reads,
checks and writes an item in separate Python steps: two conditional updates with the same
expected version can both succeed when the threads interleave. DynamoDB applies each request
atomically, so every concurrency test on plain moto can pass by luck or fail by accident.

:class:`AtomicApp` wraps moto's WSGI application: requests are still read and answered on their
own threads (slow clients do not block others), but moto handles one request at a time, under
one lock, from dispatch to the last byte of its response body. It also honours
``ClientRequestToken`` on ``TransactWriteItems``, which moto ignores (see :class:`_TokenBook`).
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TOKEN_WINDOW", "AtomicApp", "AtomicMotoThread"]

TOKEN_WINDOW = 600.0
"""Seconds a TransactWriteItems client request token is remembered (DynamoDB: 10 minutes)."""

_TRANSACT_WRITE = "DynamoDB_20120810.TransactWriteItems"
_MISMATCH = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class _Remembered:
    parameters: dict[str, Any]
    expires: float
    status: str
    headers: Headers
    body: bytes


class _TokenBook:
    """What DynamoDB does with ``ClientRequestToken`` on ``TransactWriteItems``.

    A token that succeeded is remembered for :data:`TOKEN_WINDOW` seconds after its request
    completed: the same token with the same parameters answers success again without applying
    anything; with other parameters it answers ``IdempotentParameterMismatchException``. A
    transaction that failed applied nothing, so its token is not remembered and a retry runs.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[str, _Remembered] = {}

    def lookup(self, token: str) -> _Remembered | None:
        now = self._clock()
        self._entries = {k: v for k, v in self._entries.items() if v.expires > now}
        return self._entries.get(token)

    def remember(self, token: str, parameters: dict[str, Any], answer: _Answer) -> None:
        self._entries[token] = _Remembered(
            parameters, self._clock() + TOKEN_WINDOW, answer.status, answer.headers, answer.body
        )


@dataclass(slots=True)
class _Answer:
    status: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    def start_response(self, status: str, headers: Headers, exc_info: Any = None) -> None:
        self.status = status
        self.headers = list(headers)


class AtomicApp:
    """A WSGI middleware that serializes dispatch into ``app`` and deduplicates transactions.

    Args:
        app: moto's WSGI application.
        clock: monotonic seconds (injectable so tests can age tokens).
    """

    def __init__(self, app: WsgiApp, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._tokens = _TokenBook(clock)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = _read_body(environ)
        with self._lock:  # one request at a time inside moto: each one is atomic
            answer = self._dispatch(environ, body)
        start_response(answer.status, answer.headers)
        return [answer.body]

    def _dispatch(self, environ: dict[str, Any], body: bytes) -> _Answer:
        token, parameters = _transaction_token(environ, body)
        if token is not None:
            remembered = self._tokens.lookup(token)
            if remembered is not None:
                if remembered.parameters != parameters:
                    return _error(400, _MISMATCH, "Request parameters mismatch the token")
                return _Answer(remembered.status, remembered.headers, remembered.body)
        answer = _Answer()
        result = self._app(environ, answer.start_response)
        try:
            answer.body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if token is not None and answer.status.startswith("200"):
            self._tokens.remember(token, parameters, answer)
        return answer


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body before taking the lock (a slow client never holds the server)."""
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        body: bytes = stream.read(int(length)) if int(length) else b""
    elif environ.get("wsgi.input_terminated"):  # chunked: the server ends the stream for us
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _transaction_token(environ: dict[str, Any], body: bytes) -> tuple[str | None, dict[str, Any]]:
    if environ.get("HTTP_X_AMZ_TARGET") != _TRANSACT_WRITE:
        return None, {}
    try:
        parameters = json.loads(body)
    except ValueError:
        return None, {}
    if not isinstance(parameters, dict):
        return None, {}
    token = parameters.get("ClientRequestToken")
    return (token if isinstance(token, str) and token else None), parameters


def _error(status: int, error_type: str, message: str) -> _Answer:
    body = json.dumps({"__type": error_type, "message": message}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.0"),
        ("Content-Length", str(len(body))),
        ("x-amz-crc32", str(zlib.crc32(body))),
    ]
    return _Answer(f"{status} Bad Request", headers, body)


class AtomicMotoThread:
    """moto's server with :class:`AtomicApp` in front, served by threads on ``host`` (any port)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) it listens on, once started."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Listen and serve in a daemon thread."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = AtomicApp(DomainDispatcherApplication(create_backend_app))
        # werkzeug logs every request at INFO; keep test and demo output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = make_server(
            self._host, self._port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket (nothing to do when not started)."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
        self._server = self._thread = None
