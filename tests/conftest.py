from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.balancer import Balancer
from tests.clients import PythonPeer
from tests.integration.client import TestClient
from tests.redis_server import RedisServer
from tests.servers import ServerProcess
from tests.xvfb import XScreen

# A server whose calls hold two people, for tests of a full call.
ONE_TO_ONE = pytest.mark.server_env(PEERCALL_CALL_CAPACITY="2")


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A fresh peercall server with its own data dir; stopped after the test. A test
    marked `server_env(PEERCALL_X="...")` gets those settings."""
    marker = request.node.get_closest_marker("server_env")
    env = dict(marker.kwargs) if marker else {}
    process = ServerProcess(tmp_path / "data", env=env).start()
    yield process
    process.stop()


@pytest.fixture
def brief_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that keeps a dropped member's place only 2 s, for tests of giving up."""
    process = ServerProcess(tmp_path / "brief", env={"PEERCALL_RESUME_SECONDS": "2"}).start()
    yield process
    process.stop()


@pytest.fixture
def python_peers(tmp_path: Path) -> Iterator[Callable[..., PythonPeer]]:
    """Starts `peercall join` processes; each is hung up (Ctrl-C) after the test."""
    peers: list[PythonPeer] = []

    def start(link: str, *args: str) -> PythonPeer:
        peer = PythonPeer(link, *args, log_dir=tmp_path / "peers")
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.stop()


@pytest.fixture
def x_screen(tmp_path: Path) -> Iterator[XScreen]:
    """An X server with no monitor, its screen painted by the test (`paint`)."""
    screen = XScreen(tmp_path / "x").start()
    yield screen
    screen.stop()


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
def balancer(cluster: list[ServerProcess]) -> Iterator[Balancer]:
    """One address in front of the whole cluster, round robin."""
    front = Balancer([server.port for server in cluster]).start()
    yield front
    front.stop()


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
