"""Several peercall processes sharing their calls through one real Redis."""

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.client import TestClient
from tests.redis_server import RedisServer
from tests.servers import ServerProcess


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def cluster(
    tmp_path: Path, redis_server: RedisServer, request: pytest.FixtureRequest
) -> Iterator[list[ServerProcess]]:
    """Three `peercall serve --redis` processes on their own ports, one Redis (with
    the settings of a `server_env` mark, if any)."""
    marker = request.node.get_closest_marker("server_env")
    env = {"PEERCALL_RESUME_SECONDS": "20", **(marker.kwargs if marker else {})}
    servers = [
        ServerProcess(tmp_path / f"server-{n}", args=["--redis", redis_server.url], env=env).start()
        for n in range(3)
    ]
    yield servers
    for server in servers:
        server.stop()


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
