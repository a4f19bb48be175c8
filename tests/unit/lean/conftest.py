"""Fixtures for the lean transport's unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.unit.lean.lean_server import Handler, Server, StartServer


@pytest.fixture
async def start_server() -> AsyncIterator[StartServer]:
    """Starts scripted servers on 127.0.0.1 (a free port each), stopped after the test."""
    servers: list[Server] = []

    async def start(handler: Handler) -> Server:
        server = Server(handler)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.aclose()
