"""asyncdynamo.local outside pytest: a server started by hand serves until stopped."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from asyncdynamo import DB, TransportKind
from asyncdynamo.local import MotoServer, config_for

pytestmark = pytest.mark.integration


async def test_a_started_server_serves_until_it_is_stopped() -> None:
    server = MotoServer().start()
    address = urlsplit(server.url)
    try:
        async with DB(config_for(server.endpoint, transport=TransportKind.LEAN)) as db:
            response = await db.client.call("ListTables", {})
        assert "TableNames" in response
    finally:
        server.stop()
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((address.hostname, address.port), 1),
    ):
        pass
