"""Fakes shared by the Lambda unit tests (a scripted transport and a LambdaDB factory)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from asyncdynamo import Config, LambdaConfig, LambdaDB, LambdaEnvironment

Responder = Callable[[str, Mapping[str, Any]], Awaitable[dict[str, Any]]]


async def empty_response(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {}


class FakeTransport:
    """Records calls; answers through ``responder``; notes requests cancelled in flight."""

    def __init__(self, responder: Responder = empty_response) -> None:
        self.responder = responder
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.cancelled: list[str] = []
        self.closed = False

    async def call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append((operation, dict(params)))
        try:
            return await self.responder(operation, params)
        except asyncio.CancelledError:
            self.cancelled.append(operation)
            raise

    async def aclose(self) -> None:
        self.closed = True

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]


def never_answers() -> Responder:
    """A responder that waits on an event nobody sets: a server that never answers."""
    silence = asyncio.Event()

    async def respond(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        await silence.wait()
        return {}

    return respond


def lambda_db(
    transport: FakeTransport,
    *,
    buffer: float = 0.05,
    enable_xray: bool = False,
    tracer_provider: Any = None,
    config: Config | None = None,
) -> LambdaDB:
    """A LambdaDB over ``transport`` that reads nothing from the process environment."""
    return LambdaDB(
        LambdaConfig(
            base_config=config or Config(table_prefix="unit-"),
            timeout_buffer=buffer,
            enable_xray=enable_xray,
            tracer_provider=tracer_provider,
            environment=LambdaEnvironment(),
        ),
        transport=transport,
    )
