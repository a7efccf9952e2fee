"""A round-robin TCP load balancer for tests, as nginx or a cloud balancer would sit in
front of several peercall processes: each new connection goes to the next backend
that accepts it, so a client whose server died lands on a live one when it reconnects.
It runs its own event loop in a thread, for sync (Playwright) and async tests alike."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading

from tests.servers import free_port


class Balancer:
    def __init__(self, backends: list[int]) -> None:
        self.backends = backends  # ports on 127.0.0.1
        self.port = free_port()
        self._turn = itertools.count()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Balancer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        self._server = started.result(timeout=10)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self) -> asyncio.Server:
        return await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = next(self._turn)
        for index in range(len(self.backends)):
            port = self.backends[(first + index) % len(self.backends)]
            try:
                backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # that one is down: the next
            await asyncio.gather(
                _pipe(reader, backend_writer), _pipe(backend_reader, writer), return_exceptions=True
            )
            return
        writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()
