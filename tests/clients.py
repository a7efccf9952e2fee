"""`peercall join` in a child process, as a user would run it, for tests to watch."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def run_peercall(
    *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs one `peercall` command to its end."""
    return subprocess.run(
        [sys.executable, "-m", "peercall", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


class PythonPeer:
    """`peercall join LINK ...` running in the background; output kept in a file."""

    def __init__(
        self,
        link: str,
        *args: str,
        log_dir: Path,
        launcher: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        """`launcher`: what runs the command (`ip netns exec NAME` for another device);
        `env`: environment variables set for it."""
        log_dir.mkdir(parents=True, exist_ok=True)
        self.out_path = log_dir / f"join-{os.getpid()}-{time.monotonic_ns()}.out"
        self.err_path = self.out_path.with_suffix(".err")
        self.process = subprocess.Popen(
            [*launcher, sys.executable, "-m", "peercall", "join", link, *args],
            stdout=self.out_path.open("w"),
            stderr=self.err_path.open("w"),
            env={**os.environ, **(env or {})},
        )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text()

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_for_line(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """Waits until a line of stdout matches `pattern`; fails with the output so far."""
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if match := regex.search(self.stdout):
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        match = regex.search(self.stdout)
        assert match, f"no line matching {pattern!r}:\n{self.stdout}\nstderr:\n{self.stderr}"
        return match

    def wait(self, timeout: float = 30) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Hangs up the way a user does (Ctrl-C), then makes sure the process is gone."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
