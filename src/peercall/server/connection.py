"""One client's signaling WebSocket, served by picows.

A signaling server's work is many small messages over many mostly idle sockets, so
each socket costs as little as it can: picows parses frames in C (no ASGI scope,
receive queue or task per socket); a message is handled as soon as it is read, in a
task only if handling has to wait; what a socket is sent in one turn of the event
loop goes out in one write at the end of it (in order, never waiting on a slow
recipient).
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from http import HTTPStatus
from typing import ClassVar, Protocol

from multidict import CIMultiDict
from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeResponse,
)

from peercall.protocol import MessageCodec, ServerMessage
from peercall.server.eager import run_eagerly
from peercall.server.limits import TokenBucket

POLICY_VIOLATION = 1008
# What a client may leave unread in its socket's buffer before it is dropped (it
# can resume: what it is owed is kept by the coordinator until acknowledged).
MAX_UNSENT_BYTES = 4 * 1024 * 1024
# Messages a socket is sent in one turn of the event loop before they are written
# anyway: a turn can read megabytes of a flood (an error for each message over the
# rate), and all of its answers were held until the turn ended.
MAX_UNWRITTEN_MESSAGES = 256
DISCONNECTED = None  # in `Connection.inbox`: the socket is gone
# How long a client has to answer our close frame before its socket is cut.
CLOSE_ANSWER_SECONDS = 5.0
HEADER_ROOM = 14  # the longest WebSocket frame header, written in front of a message
# A text frame's header by the length of its message: under 126, under 64 KiB, more.
SHORT_HEADER = struct.Struct("!BB")
MEDIUM_HEADER = struct.Struct("!BBH")
LONG_HEADER = struct.Struct("!BBQ")
# What an open socket's upgrade request and response are left with (never written to).
NO_HEADERS: CIMultiDict[str] = CIMultiDict()


def forget_handshake(transport: WSTransport) -> None:
    """Drops the upgrade's headers, which picows keeps for the socket's lifetime: a
    browser's come to ~3 KiB, a third of what an idle connection costs otherwise,
    and nothing reads them once the socket is open (`SignalingHub.accept` has)."""
    for handshake in (transport.request, transport.response):
        if handshake is not None:
            handshake.headers = NO_HEADERS


class SwitchingProtocols(WSUpgradeResponse):
    """The 101 answer to an upgrade request, the same bytes picows would write, put
    together without an enum's lookups and a loop over a header multidict: that was
    a tenth of a new socket's cost (py-spy). picows adds `Sec-WebSocket-Accept` to
    `headers` before it calls `to_bytes`."""

    __slots__ = ()
    HEAD: ClassVar[bytes] = (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
    )

    def __init__(self) -> None:
        self.version = b"HTTP/1.1"
        self.status = HTTPStatus.SWITCHING_PROTOCOLS
        self.headers = CIMultiDict()
        self.body = None

    def to_bytes(self) -> bytearray:
        accept = self.headers["Sec-WebSocket-Accept"].encode()
        return bytearray(b"%bSec-WebSocket-Accept: %b\r\n\r\n" % (self.HEAD, accept))


def framed(buffer: bytearray) -> memoryview:
    """The message after HEADER_ROOM in `buffer` as a server's text frame (RFC 6455
    section 5.2: FIN, opcode 1, not masked), its header written in front of it."""
    size = len(buffer) - HEADER_ROOM
    if size < 126:
        start = HEADER_ROOM - 2
        SHORT_HEADER.pack_into(buffer, start, 0x81, size)
    elif size < 0x10000:
        start = HEADER_ROOM - 4
        MEDIUM_HEADER.pack_into(buffer, start, 0x81, 126, size)
    else:
        start = HEADER_ROOM - 10
        LONG_HEADER.pack_into(buffer, start, 0x81, 127, size)
    return memoryview(buffer)[start:]


class MessageHandler(Protocol):
    """What the signaling hub does with a connection's frames (see `SignalingHub`)."""

    def connected(self, connection: Connection) -> None: ...

    async def handle(self, connection: Connection, frame: bytes) -> None: ...

    async def disconnected(self, connection: Connection) -> None: ...


class Connection(WSListener):
    """A client's WebSocket, its place in a call if any, and when it must next be
    heard from (`deadline`, on the event loop's clock; see `SignalingHub._sweep`).

    Frames are handled one at a time, in order. A frame is handled as it arrives;
    should handling wait (for storage, Redis), a reader task goes on with it, and
    frames that come meanwhile wait in `inbox` (both exist only then: an idle
    connection holds neither). The socket going away is the last thing in the
    inbox, so whatever the client said before it is handled first.
    """

    __slots__ = (
        "address", "admitted", "bucket", "call_id", "closing", "codec", "deadline",
        "finishing", "fragments", "handler", "inbox", "loop", "max_frame_bytes",
        "peer_id", "reader", "transport", "unwritten",
    )  # fmt: skip

    def __init__(
        self,
        handler: MessageHandler,
        codec: MessageCodec,
        address: str,
        first_wait: float,
        bucket: TokenBucket,
        max_frame_bytes: int,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        """`first_wait`: seconds it has to say something (see `deadline`). `loop`:
        the running one, kept (see below)."""
        self.handler = handler
        self.codec = codec
        self.address = address
        self.bucket = bucket
        self.max_frame_bytes = max_frame_bytes
        # Kept: `asyncio.get_running_loop()` makes a getpid system call each time
        # (Python checks it is not in a forked child), and it was called for nearly
        # every message sent or received: 40 system calls per call set-up.
        self.loop = loop
        self.deadline = self.loop.time() + first_wait
        self.transport: WSTransport | None = None
        # Made when a frame arrives, dropped once handled: an empty deque costs ~700
        # bytes, and most connections are idle.
        self.inbox: deque[bytes | None] | None = None
        self.reader: asyncio.Task[None] | None = None
        self.fragments: bytearray | None = None  # a message sent in several frames
        self.unwritten: list[bytearray] | None = None  # sent this turn, written at its end
        self.finishing = False  # nothing more will be sent
        self.closing = False  # closed by us: what the client says next is not handled
        self.admitted = False  # counted against its address's connections
        self.call_id: str | None = None
        self.peer_id: str | None = None

    # --- picows' callbacks ----------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        forget_handshake(transport)
        self.handler.connected(self)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())  # not sent if ours went first
            transport.disconnect()
        elif self.closing:
            return  # closed by us: what it says meanwhile is read and dropped
        elif kind == WSMsgType.TEXT or kind == WSMsgType.BINARY:
            if frame.fin:
                self._received(frame.get_payload_as_bytes())
            else:
                self.fragments = bytearray(frame.get_payload_as_memoryview())
        elif kind == WSMsgType.CONTINUATION:
            self._continued(frame)
        elif kind == WSMsgType.PING:
            self._pinged(transport, frame)
        # PONG needs nothing.

    def _pinged(self, transport: WSTransport, frame: WSFrame) -> None:
        """A PING frame is answered (RFC 6455) within the connection's message rate.
        picows answered each at once, whatever the rate, and a client that sent pings
        without reading the pongs had the server hold 1.5 GB of them within 8 s."""
        if self.finishing or transport.is_close_frame_sent or not self.bucket.take():
            return  # over the rate: not answered (a client pings again if it must)
        transport.send_pong(frame.get_payload_as_bytes())
        self._drop_if_not_reading(transport)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.finishing = True
        self._received(DISCONNECTED)

    def _continued(self, frame: WSFrame) -> None:
        if self.fragments is None:
            return  # a continuation of nothing: ignored
        self.fragments += frame.get_payload_as_memoryview()
        if len(self.fragments) > self.max_frame_bytes:
            # As a frame that big would be: the transport's limit, not the protocol's.
            self.fragments = None
            self.close_after_writing(WSCloseCode.MESSAGE_TOO_BIG)
        elif frame.fin:
            whole, self.fragments = bytes(self.fragments), None
            self._received(whole)

    def _received(self, frame: bytes | None) -> None:
        if self.inbox is not None:
            self.inbox.append(frame)  # others are being handled: it waits its turn
            return
        self.inbox = deque((frame,))
        # Handled now; in a task only if handling has to wait (see eager.py).
        self.reader = run_eagerly(self._read(self.inbox))

    async def _read(self, inbox: deque[bytes | None]) -> None:
        try:
            while inbox:
                frame = inbox.popleft()
                if frame is DISCONNECTED:
                    await self.handler.disconnected(self)
                    return
                if not self.closing:
                    await self.handler.handle(self, frame)
        finally:
            self.reader = None
            self.inbox = None

    # --- sending --------------------------------------------------------------------

    def send(self, message: ServerMessage) -> None:
        self._send_frame(self.codec.encode(message, room=HEADER_ROOM))

    def send_text(self, frame: str) -> None:
        """Sends a message already encoded (as it comes out of Redis)."""
        buffer = bytearray(HEADER_ROOM)
        buffer += frame.encode()
        self._send_frame(buffer)

    def _send_frame(self, buffer: bytearray) -> None:
        """`buffer`: the message after HEADER_ROOM free bytes. Written together with
        whatever else this connection is sent in the same turn of the event loop."""
        if self.finishing or self.transport is None:
            return
        if self.unwritten is None:
            self.unwritten = []
            self.loop.call_soon(self._write_unwritten)
        self.unwritten.append(buffer)
        if len(self.unwritten) >= MAX_UNWRITTEN_MESSAGES:
            self._write_unwritten()

    def _write_unwritten(self) -> None:
        """One write (one system call, one TCP segment if it fits) for the messages of
        one turn: ten candidates relayed from one read were ten writes, and writing
        was the server's largest cost under load (a fifth of its time)."""
        frames, self.unwritten = self.unwritten, None
        transport = self.transport
        if not frames or self.finishing or transport is None or transport.is_disconnected:
            return  # gone meanwhile (uvloop raises on a write to a closed socket)
        if transport.is_close_frame_sent:
            return  # nothing may follow a close frame
        # Our frames, not picows': it writes one message per call. Whatever uvloop
        # keeps unsent refers to these buffers, which nothing changes afterwards.
        underlying = transport.underlying_transport
        if len(frames) == 1:
            underlying.write(framed(frames[0]))
        else:
            underlying.write(b"".join([framed(frame) for frame in frames]))
        self._drop_if_not_reading(transport)

    def _drop_if_not_reading(self, transport: WSTransport) -> None:
        if transport.underlying_transport.get_write_buffer_size() > MAX_UNSENT_BYTES:
            # It does not read: drop it rather than hold its backlog (it can resume).
            self.finishing = True
            transport.disconnect(graceful=False)

    def finish_writing(self) -> None:
        """Nothing more will be sent (its member has moved to another socket)."""
        self.finishing = True

    def close_after_writing(self, code: int) -> None:
        """Sends what is queued and a close frame with `code`; the socket closes when
        the client answers it (or after `CLOSE_ANSWER_SECONDS`).

        Not at once: a socket closed while the client is still sending (the rest of
        a message too large, say) has unread data, which makes the kernel reset the
        connection, and a reset throws away what the client had not read yet, our
        close frame included: it saw 1006 (no reason) instead of 1009 or 1008.
        """
        transport = self.transport
        if self.closing or transport is None:
            return
        self._write_unwritten()  # what was said before the close goes first
        self.closing = self.finishing = True
        transport.send_close(WSCloseCode(code))
        self.loop.call_later(CLOSE_ANSWER_SECONDS, transport.disconnect, False)
