"""Child processes for tests (peercall, coturn): started, waited for, stopped by PID."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def memory_kib(pid: int) -> dict[str, int]:
    """Resident memory now and at its peak (VmRSS, VmHWM), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return {"rss_kib": fields["VmRSS"], "peak_rss_kib": fields["VmHWM"]}


def wait_until_ready(
    process: subprocess.Popen[bytes],
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    log: Callable[[], str],
) -> None:
    """Polls `ready()` until it holds; fails with the process's log if it exits or
    takes longer than `timeout` (and then stops it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log()}")
        if ready():
            return
        time.sleep(0.05)
    stop_process(process)
    raise RuntimeError(f"{what} did not start in {timeout}s:\n{log()}")


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ten seconds."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def accepts_connections(port: int) -> bool:
    """Whether something listens on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class ChildProcess:
    """A service a test starts (`process`), stopped by PID; `log()` reads `log_path`."""

    process: subprocess.Popen[bytes] | None = None
    log_path: Path

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)

    def kill(self) -> None:
        """SIGKILL: gone at once, with no chance to say goodbye."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
