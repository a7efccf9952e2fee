"""One client's signaling WebSocket, spoken in raw ASGI.

The hub sits in front of Starlette for `/ws` (see `app.py`): a signaling server's
work is many small messages, and each one skipped Starlette's routing, middleware
and WebSocket wrapper. Each connection has an outbox written out by its own task, so
relaying a signal never waits on the recipient's socket and every recipient gets its
messages in the order the call state produced them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from peercall.protocol import MessageCodec, ServerMessage

Scope = MutableMapping[str, Any]
Event = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Event]]
Send = Callable[[Event], Awaitable[None]]
POLICY_VIOLATION = 1008


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def client_address(scope: Scope) -> str:
    """The socket's address, or the client's as a trusted proxy tells it (uvicorn
    rewrites `client` from X-Forwarded-For only for `trusted_proxies`)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


async def refuse(send: Send, frame: str) -> None:
    """Accepts a WebSocket only to say why (`frame`), then closes it (1008)."""
    with contextlib.suppress(Exception):
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": frame})
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})


class Connection:
    """A client's WebSocket, its place in a call if any, and when it must next be
    heard from (`deadline`, on the event loop's clock; see `SignalingHub._sweep`).

    What is sent waits in `outbox` and a writer task writes it out, in order; the
    task exists only while there is something to write, so an idle connection (most
    of them) holds no task and no queue, only this object.
    """

    __slots__ = (
        "address", "call_id", "close_code", "codec", "deadline", "finishing", "outbox",
        "peer_id", "receive", "send_event", "writer",
    )  # fmt: skip

    def __init__(
        self, receive: Receive, send: Send, codec: MessageCodec, address: str, deadline: float
    ) -> None:
        self.receive = receive
        self.send_event = send
        self.codec = codec
        self.address = address
        self.deadline = deadline
        self.outbox: deque[str] = deque()
        self.writer: asyncio.Task[None] | None = None
        self.finishing = False  # nothing more will be queued
        self.call_id: str | None = None
        self.peer_id: str | None = None
        self.close_code: int | None = None

    def send(self, message: ServerMessage) -> None:
        self.send_text(self.codec.encode(message))

    def send_text(self, frame: str) -> None:
        """Sends a message already encoded (as it comes out of Redis)."""
        if self.finishing:
            return
        self.outbox.append(frame)
        self._write_soon()

    def _write_soon(self) -> None:
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while self.outbox:
                await self.send_event({"type": "websocket.send", "text": self.outbox.popleft()})
            if self.finishing and self.close_code is not None:
                await self.send_event({"type": "websocket.close", "code": self.close_code})
        except Exception:
            # The client is gone (or going): nobody is left to read what is queued.
            # A member that resumes gets it again from its MemberLink.
            self.outbox.clear()
            self.finishing = True
        finally:
            self.writer = None

    def finish_writing(self) -> None:
        """Nothing more will be sent: what is queued still goes out."""
        self.finishing = True

    def close_after_writing(self, code: int) -> None:
        """Sends what is queued, then closes the socket with `code`."""
        if self.close_code is None:
            self.close_code = code
            self.finishing = True
            self._write_soon()

    async def flushed(self, disconnected: bool) -> None:
        """Waits for the writer to finish (or stops it: nobody is there to read)."""
        writer = self.writer
        if writer is None:
            return
        if disconnected:
            writer.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await writer
