"""What every benchmark needs: the npm packages it compares with, processes pinned
to cores, their memory, and a place for results. Run benchmarks from the repository
root, e.g. `.venv/bin/python -m benchmarks.signaling_load`."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from tests.processes import stop_process, wait_until_ready
from tests.servers import free_port

BENCHMARKS = Path(__file__).resolve().parent
NODE_MODULES = BENCHMARKS / "node_modules"
RESULTS = BENCHMARKS / "results"
# Limits that protect a public server from one address; every benchmark client
# comes from 127.0.0.1, so they are lifted (equally for everything measured).
UNLIMITED = "1000000"
PEERCALL_BENCH_ENV = {
    "PEERCALL_MESSAGES_PER_SECOND": UNLIMITED,
    "PEERCALL_MESSAGE_BURST": UNLIMITED,
    "PEERCALL_MAX_CONNECTIONS_PER_IP": UNLIMITED,
    "PEERCALL_CALLS_PER_IP_PER_MINUTE": UNLIMITED,
    "PEERCALL_HANDSHAKE_SECONDS": "600",
    "PEERCALL_IDLE_SECONDS": "600",
}


def npm_install() -> Path:
    """The PeerJS client and server (and ws) at the versions in package-lock.json."""
    if not (NODE_MODULES / "peer").exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed (Node 18+): apt-get install -y nodejs npm")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=BENCHMARKS, check=True)
    return NODE_MODULES


def raise_open_files_limit(wanted: int = 65536) -> int:
    """Tens of thousands of sockets need as many file descriptors (children inherit)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, max(hard, target)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pinned(cpu: int) -> list[str]:
    """A prefix that runs a command on one core, when there are cores to spare."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(cpu)]
    return []


def cpu_times(pid: int) -> tuple[float, float]:
    """CPU time the process (all its threads) has used so far: (user, system) seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


class PeerJsServer:
    """The `peer` npm package's server (`peerjs --port P`), as its README runs it."""

    def __init__(
        self, launcher: list[str], log_path: Path, concurrent_limit: int = 100_000
    ) -> None:
        self.port = free_port()
        self.launcher = launcher
        self.log_path = log_path
        self.concurrent_limit = concurrent_limit
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/peerjs"

    def start(self) -> PeerJsServer:
        command = [
            *self.launcher, "node", str(NODE_MODULES / "peer" / "dist" / "bin" / "peerjs.js"),
            "--port", str(self.port), "--host", "127.0.0.1",
            # Its default (5000) would refuse the idle-connection benchmark early.
            "--concurrent_limit", str(self.concurrent_limit),
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until_ready(
            self.process, self._up, what="peerjs server", timeout=15, log=self.log_path.read_text
        )
        return self

    def _up(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process)


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {"measured_at": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine(), **result}
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0]}
