"""The WSGI middleware that makes the test server atomic and honour transaction tokens."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from asyncdynamo._testing._moto import TOKEN_WINDOW, AtomicApp


class CountingApp:
    """A stand-in for moto: counts calls and answers with a scripted status."""

    def __init__(self) -> None:
        self.calls = 0
        self.status = "200 OK"

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.calls += 1
        start_response(self.status, [("Content-Type", "application/x-amz-json-1.0")])
        return [b'{"call": ', str(self.calls).encode(), b"}"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send(
    app: AtomicApp, parameters: dict[str, Any], target: str = "TransactWriteItems"
) -> tuple[str, dict[str, Any]]:
    body = json.dumps(parameters).encode()
    environ = {
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_X_AMZ_TARGET": f"DynamoDB_20120810.{target}",
        "wsgi.input": io.BytesIO(body),
    }
    answer: list[str] = []
    chunks = app(environ, lambda status, headers: answer.append(status))
    return answer[0], json.loads(b"".join(chunks))


def transaction(token: str, amount: int = 1) -> dict[str, Any]:
    return {"ClientRequestToken": token, "TransactItems": [{"amount": amount}]}


def test_the_same_token_and_parameters_answer_the_first_success_without_applying() -> None:
    moto, clock = CountingApp(), Clock()
    app = AtomicApp(moto, clock)
    assert send(app, transaction("t")) == ("200 OK", {"call": 1})
    clock.now += TOKEN_WINDOW - 1
    assert send(app, transaction("t")) == ("200 OK", {"call": 1})
    assert moto.calls == 1


def test_the_same_token_with_other_parameters_is_a_mismatch() -> None:
    moto = CountingApp()
    app = AtomicApp(moto, Clock())
    send(app, transaction("t"))
    status, body = send(app, transaction("t", amount=2))
    assert status.startswith("400")
    assert body["__type"].endswith("#IdempotentParameterMismatchException")
    assert moto.calls == 1


def test_a_token_is_new_again_after_ten_minutes() -> None:
    moto, clock = CountingApp(), Clock()
    app = AtomicApp(moto, clock)
    send(app, transaction("t"))
    clock.now += TOKEN_WINDOW
    assert send(app, transaction("t", amount=2)) == ("200 OK", {"call": 2})


def test_a_failed_transaction_leaves_its_token_unused() -> None:
    moto = CountingApp()
    app = AtomicApp(moto, Clock())
    moto.status = "400 Bad Request"
    send(app, transaction("t"))
    moto.status = "200 OK"
    assert send(app, transaction("t")) == ("200 OK", {"call": 2})


def test_other_operations_and_untokened_transactions_always_run() -> None:
    moto = CountingApp()
    app = AtomicApp(moto, Clock())
    send(app, {"TransactItems": []})
    send(app, {"TransactItems": []})
    send(app, transaction("t"), target="UpdateItem")
    send(app, transaction("t"), target="UpdateItem")
    assert moto.calls == 4


def test_a_chunked_body_reaches_the_server_whole() -> None:
    seen: list[bytes] = []

    def echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        start_response("200 OK", [])
        return [b""]

    environ = {"wsgi.input": io.BytesIO(b'{"a": 1}'), "wsgi.input_terminated": True}
    AtomicApp(echo, Clock())(environ, lambda status, headers: None)
    assert seen == [b'{"a": 1}']
