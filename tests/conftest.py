from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.clients import PythonPeer
from tests.servers import ServerProcess

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
