"""A real `redis-server` (Debian) on 127.0.0.1 for tests, stopped by PID.

With an append-only file in its own directory, as one would run it in production:
a restart (`restart()`) comes back with everything it had.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from tests.processes import ChildProcess, wait_until_ready
from tests.servers import free_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer(ChildProcess):
    def __init__(self, directory: Path, launcher: list[str] | None = None) -> None:
        self.directory = directory
        # Put before the command, e.g. ["taskset", "-c", "0"] (benchmarks).
        self.launcher = launcher or []
        self.port = free_port()
        self.log_path = directory / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            *self.launcher, REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.directory), "--appendonly", "yes", "--appendfsync", "everysec",
            "--save", "", "--daemonize", "no", "--protected-mode", "yes",
            "--logfile", str(self.log_path),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until_ready(
            self.process, self._answers, what="redis-server", timeout=timeout, log=self.log
        )
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def restart(self) -> None:
        self.stop()
        self.start()
