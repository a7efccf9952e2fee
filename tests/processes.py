"""Child processes for tests (peercall, coturn): started, waited for, stopped by PID."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable


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
