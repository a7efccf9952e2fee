"""A real coturn (`turnserver` from Debian) on 127.0.0.1 for tests, stopped by PID."""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path

from tests.processes import ChildProcess, accepts_connections, wait_until_ready
from tests.servers import ServerProcess, free_port

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"


class TurnServer(ChildProcess):
    """coturn with `use-auth-secret`: it accepts TURN REST API credentials made with
    `secret` (as peercall makes them), and nothing else."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.secret = secrets.token_urlsafe(24)
        self.realm = "peercall.test"
        self.log_path = directory / "turnserver.log"

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    def start(self, timeout: float = 10.0) -> TurnServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        relay_ports = free_port()
        command = [
            TURNSERVER, "-n", "--no-cli", "--no-tls", "--no-dtls",
            "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
            f"--listening-port={self.port}",
            # A small relay port range of its own, so tests side by side do not collide.
            f"--min-port={relay_ports}", f"--max-port={relay_ports + 50}",
            "--use-auth-secret", f"--static-auth-secret={self.secret}",
            f"--realm={self.realm}",
            "--allow-loopback-peers", "--no-multicast-peers",
            f"--pidfile={self.directory / 'turnserver.pid'}",
            f"--userdb={self.directory / 'turndb'}",
            f"--log-file={self.log_path}", "--simple-log", "--no-stdout-log",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        wait_until_ready(
            self.process,
            lambda: accepts_connections(self.port),
            what="turnserver",
            timeout=timeout,
            log=self.log,
        )
        return self

    def log(self) -> str:
        # coturn names its log file after the given one, with the date in it.
        logs = sorted(self.directory.glob("turnserver*.log"))
        return "\n".join(path.read_text(errors="replace") for path in logs)


def relay_only_server(
    tmp_path: Path, turn: TurnServer, secret: str | None = None, **env: str
) -> ServerProcess:
    """A started peercall server whose calls go through `turn` only, with credentials
    made from `secret` (the TURN server's own by default)."""
    return ServerProcess(
        tmp_path / "data",
        env={
            "PEERCALL_TURN_URLS": turn.url,
            "PEERCALL_TURN_SECRET": secret or turn.secret,
            "PEERCALL_ICE_TRANSPORT_POLICY": "relay",
            **env,
        },
    ).start()
