"""Several peercall processes sharing their calls through one real Redis."""

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.integration.client import TestClient
from tests.servers import ServerProcess


@pytest.fixture
async def connect_to() -> AsyncIterator[Callable[[ServerProcess], Awaitable[TestClient]]]:
    """Opens a signaling connection to the given server; all closed after the test."""
    clients: list[TestClient] = []

    async def open_client(server: ServerProcess) -> TestClient:
        client = await TestClient.connect(server.ws_url)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()
