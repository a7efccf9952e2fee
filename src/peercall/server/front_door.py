"""One port for the page, the API and the signaling socket, served by two servers.

uvicorn serves HTTP (Starlette: the page, the API); picows serves the signaling
WebSocket, where a server spends its time: it parses and writes frames in C and
keeps about a third of the memory per idle socket that uvicorn's WebSocket stack
does (benchmarks/README.md). `FrontDoor` is the protocol uvicorn runs for each new
connection (its `http` setting): it reads the request line, then hands the socket,
with what it read, to picows for `GET /ws` and to uvicorn's own protocol otherwise.
Both are asyncio protocols on the same transport (TLS included), so nothing is
copied after the first bytes. picows is given the front door itself as its transport,
which passes its writes on and answers its questions about socket options (see
`FrontDoor.get_extra_info`).

A client has `handshake_seconds` (a setting) to send its request line, then as long
again for the rest of its request (picows' upgrade deadline, `LimitedRequestProtocol`'s
for HTTP); otherwise its socket is closed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

from picows import WSAutoPingStrategy, WSUpgradeRequest
from picows.picows import WSProtocol

from peercall.server.request_limits import REQUEST_TIMEOUT, LimitedRequestProtocol
from peercall.server.signaling import SignalingHub, Upgrade

SIGNALING_PATH = b"/ws"
# A request line longer than this is not ours: uvicorn answers it.
MAX_REQUEST_LINE = 8192
# picows reads into a buffer that grows when a frame needs it; most frames are small.
READ_BUFFER_BYTES = 2048
# picows logs each connection at INFO, with a logger of its own unless it is given
# something that is not a `logging.Logger`: one adapter, shared by every socket.
PICOWS_LOGGER = logging.LoggerAdapter(logging.getLogger("picows.server"), {})


def is_signaling_request(request_line: bytes) -> bool:
    """`GET /ws HTTP/1.1` (a query string allowed)."""
    method, _, rest = request_line.partition(b" ")
    target = rest.partition(b" ")[0]
    return method == b"GET" and target.partition(b"?")[0] == SIGNALING_PATH


class FrontDoor(asyncio.Protocol):
    """Reads up to the end of the request line, then steps aside for uvicorn, or for
    picows stays in between as its transport (see `get_extra_info`).

    uvloop keeps this object for the socket's lifetime (its transport holds on to
    `data_received` when the next protocol has none, as picows' has not), so it is
    slotted and lets go of everything else on handing over.
    """

    __slots__ = ("deadline", "http_arguments", "hub", "loop", "received", "transport")

    def __init__(
        self,
        hub: SignalingHub,
        *,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.hub = hub
        self.http_arguments: tuple[Any, ...] = (config, server_state, app_state, _loop)
        # Asking asyncio for the loop is a system call (it checks the process id):
        # asked here once, when uvicorn has none to give (it mostly has not), and
        # handed on to the socket's connection.
        self.loop = _loop if _loop is not None else asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not registered as `asyncio.Transport`.
        self.transport = cast(asyncio.Transport, transport)
        # Without it a client that never finishes its request line (or never starts
        # it) would keep its socket for good: uvicorn has no such deadline.
        self.deadline = self.loop.call_later(self.hub.settings.handshake_seconds, self._too_slow)

    def _too_slow(self) -> None:
        self.deadline = None
        if self.transport is not None:
            if self.received:
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.received += data
        line_end = self.received.find(b"\r\n")
        if line_end < 0 and len(self.received) < MAX_REQUEST_LINE:
            return  # the request line is not all here yet
        assert self.transport is not None
        if line_end >= 0 and is_signaling_request(bytes(self.received[:line_end])):
            self._hand_over(self._signaling_protocol())
        else:
            request_seconds = self.hub.settings.handshake_seconds
            self._hand_over(
                LimitedRequestProtocol(*self.http_arguments, request_seconds=request_seconds)
            )

    def _signaling_protocol(self) -> WSProtocol:
        assert self.transport is not None
        peer = self.transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else "unknown"
        accept: Callable[[WSUpgradeRequest], Upgrade] = functools.partial(
            self.hub.accept, peer=address, loop=self.loop
        )
        return WSProtocol(
            None,  # host and port: a client's
            None,  # path: a client's
            False,  # the server side
            accept,
            PICOWS_LOGGER,
            True,  # disconnect when a callback raises (ours do not)
            self.hub.settings.handshake_seconds,  # to send the rest of the request
            False,  # no pings of its own: clients ping, the hub's sweeper times out
            20.0,
            20.0,
            WSAutoPingStrategy.PING_WHEN_IDLE,
            False,  # pings are answered by the connection, within its rate
            self.hub.max_frame_bytes,
            None,  # extra response headers
            READ_BUFFER_BYTES,
        )

    def _hand_over(self, protocol: asyncio.BaseProtocol) -> None:
        transport = self.transport
        assert transport is not None
        self._disarm()
        received, self.received = bytes(self.received), bytearray()
        self.http_arguments = ()
        transport.set_protocol(protocol)
        if isinstance(protocol, WSProtocol):
            protocol.connection_made(self)  # we stay in between (see get_extra_info)
        else:
            self.transport = None
            protocol.connection_made(transport)
        if isinstance(protocol, asyncio.BufferedProtocol):
            rest = memoryview(received)
            while rest:  # its buffer may be smaller than what was read
                buffer = protocol.get_buffer(len(rest))
                size = min(len(buffer), len(rest))
                buffer[:size] = rest[:size]
                protocol.buffer_updated(size)
                rest = rest[size:]
        else:
            assert isinstance(protocol, asyncio.Protocol)
            protocol.data_received(received)

    def eof_received(self) -> bool:
        return False  # closes the transport

    # --- the transport picows is given -------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """As the real transport's, but the socket is the front door itself. picows'
        `connection_made` sets TCP_NODELAY and TCP_QUICKACK and reads four socket
        options, only to log them (at INFO, which peercall never shows for picows),
        each through uvloop's stand-in for the socket, which makes a Python socket
        object and two system calls per call: six per socket, ~4 % of the server's
        time under load. uvloop has set TCP_NODELAY on every TCP socket already;
        QUICKACK is a one-time hint that the kernel drops by itself."""
        if name == "socket":
            return self
        assert self.transport is not None
        return self.transport.get_extra_info(name, default)

    def fileno(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("socket").fileno())

    def setsockopt(self, *option: object) -> None:
        pass  # see get_extra_info

    def getsockopt(self, *option: object) -> int:
        return 0  # see get_extra_info: read for a log line only

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def writelines(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        assert self.transport is not None
        self.transport.writelines(chunks)

    def get_write_buffer_size(self) -> int:
        assert self.transport is not None
        return self.transport.get_write_buffer_size()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.transport = None

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


def front_door_for(hub: SignalingHub) -> Callable[..., FrontDoor]:
    """What uvicorn's `http` setting takes: called with uvicorn's arguments."""
    return functools.partial(FrontDoor, hub)
