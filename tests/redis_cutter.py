"""A TCP relay between peercall and a real Redis that can cut, at the moment it is
sent, every connection that carries one given command: storage lost at one exact
step of the server's work (between a member's `joined` and its socket being
attached, say), which stopping Redis cannot aim at. It runs its own event loop in a
thread: a server process started meanwhile talks to Redis through it while the test
waits (blocking) for that server to be ready."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.redis_server import RedisServer

PUMP_BYTES = 1 << 16


class RedisCutter:
    def __init__(self, redis: RedisServer) -> None:
        self.redis = redis
        self.port = 0
        self.cutting: bytes | None = None  # a command's name, as a RESP bulk string
        self.cuts = 0
        self._thread = threading.Thread()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._pumps: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cut(self, command: str | None) -> None:
        """From now on, connections that send `command` (HGET, XRANGE...) are cut
        (reset) before Redis gets it; None: everything goes through again."""
        self.cutting = None if command is None else b"\r\n%s\r\n" % command.upper().encode()

    def start(self) -> RedisCutter:
        listening = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._serve(listening),), name="redis-cutter", daemon=True
        )
        self._thread.start()
        if not listening.wait(10):
            raise RuntimeError("the Redis cutter did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(10)

    async def _serve(self, listening: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        listening.set()
        await self._stopped.wait()
        server.close()
        for pump in list(self._pumps):
            pump.cancel()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        await server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.redis.port)
        except OSError:
            writer.transport.abort()
            return
        ends = (writer, redis_writer)
        pumps = [
            asyncio.create_task(self._pump(reader, redis_writer, ends, watch=True)),
            asyncio.create_task(self._pump(redis_reader, writer, ends, watch=False)),
        ]
        self._pumps.update(pumps)
        for pump in pumps:
            pump.add_done_callback(self._pumps.discard)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        ends: tuple[asyncio.StreamWriter, ...],
        *,
        watch: bool,
    ) -> None:
        tail = b""  # a command's name may come split over two reads
        with contextlib.suppress(ConnectionError):
            while data := await source.read(PUMP_BYTES):
                if watch and self.cutting is not None and self.cutting in tail + data:
                    self.cuts += 1
                    break
                tail = data[-16:]
                sink.write(data)
                await sink.drain()
        for end in ends:
            end.transport.abort()  # a reset, as when a network path dies
