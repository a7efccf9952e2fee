"""Real peercall server processes for tests: started on 127.0.0.1, stopped by PID."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.processes import ChildProcess, wait_until_ready


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess(ChildProcess):
    """`peercall serve` in a child process, as a user would run it."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
        https: bool = False,
        host: str = "127.0.0.1",
        launcher: list[str] | None = None,
    ) -> None:
        self.host = host
        # Put before the command, e.g. ["taskset", "-c", "0"] (benchmarks).
        self.launcher = launcher or []
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = env or {}
        self.https = https
        self.args = [*(args or []), *(["--https"] if https else [])]
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"{'https' if self.https else 'http'}://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.https else 'ws'}://{self.host}:{self.port}/ws"

    def start(self, timeout: float = 15.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            *self.launcher, sys.executable, "-m", "peercall", "serve",
            "--host", self.host, "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--ice-servers", "[]",
            *self.args,
        ]  # fmt: skip
        env = {**os.environ, **self.env}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_until_ready(self.process, self._healthy, what="server", timeout=timeout, log=self.log)
        return self

    def _healthy(self) -> bool:
        try:
            # Up is up: whether the certificate is right is for the tests to check.
            return httpx.get(self.url + "/healthz", timeout=1, verify=False).status_code == 200
        except httpx.HTTPError:
            return False

    def create_call(self, passcode: str | None = None) -> str:
        body = {"passcode": passcode} if passcode is not None else None
        response = httpx.post(self.url + "/api/calls", json=body)
        response.raise_for_status()
        return response.json()["call_id"]

    async def ended_call(self, call_id: str, tries: int = 100) -> httpx.Response:
        """`GET /api/calls/{id}` asked every 0.1 s until it says 410 (ended): the
        last answer, 410 or not after `tries`."""
        return await self.call_answer_becomes(call_id, 410, tries)

    async def call_answer_becomes(
        self, call_id: str, status: int, tries: int = 100
    ) -> httpx.Response:
        """`GET /api/calls/{id}` asked every 0.1 s until its status is `status`: the
        last answer, whatever it is after `tries`."""
        async with httpx.AsyncClient() as http:
            for _ in range(tries):
                response = await http.get(f"{self.url}/api/calls/{call_id}")
                if response.status_code == status:
                    break
                await asyncio.sleep(0.1)
        return response

    def describe_call(self, call_id: str) -> dict:
        """What `GET /api/calls/{id}` tells a page about a call."""
        response = httpx.get(f"{self.url}/api/calls/{call_id}")
        response.raise_for_status()
        return response.json()
