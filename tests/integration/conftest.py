from collections.abc import Awaitable, Callable

import pytest

from tests.integration.client import TestClient
from tests.servers import ServerProcess


@pytest.fixture
def connect(
    server: ServerProcess, connect_to: Callable[[ServerProcess], Awaitable[TestClient]]
) -> Callable[[], Awaitable[TestClient]]:
    """Opens signaling connections to the test server; all closed after the test."""
    return lambda: connect_to(server)
