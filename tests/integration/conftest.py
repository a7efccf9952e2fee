from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.integration.client import TestClient
from tests.servers import ServerProcess


@pytest.fixture
async def connect(server: ServerProcess) -> AsyncIterator[Callable[[], Awaitable[TestClient]]]:
    """Opens signaling connections to the test server; all closed after the test."""
    clients: list[TestClient] = []

    async def open_client() -> TestClient:
        client = await TestClient.connect(server.ws_url)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()
