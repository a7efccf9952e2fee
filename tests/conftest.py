from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A fresh peercall server with its own data dir; stopped after the test."""
    process = ServerProcess(tmp_path / "data").start()
    yield process
    process.stop()
