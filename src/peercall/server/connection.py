"""One client's signaling WebSocket, spoken in raw ASGI.

The hub sits in front of Starlette for `/ws` (see `app.py`): a signaling server's
work is many small messages, and each one skipped Starlette's routing, middleware
and WebSocket wrapper. Each connection has an outbox (a queue and one writer task),
so relaying a signal never waits on the recipient's socket and every recipient gets
its messages in the order the call state produced them.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    client = scope.get("client")
    return client[0] if client else "unknown"


class Connection:
    """A client's WebSocket, its place in a call if any, and when it must next be
    heard from (`deadline`, on the event loop's clock; see `SignalingHub._sweep`)."""

    __slots__ = (
        "address", "call_id", "close_code", "codec", "deadline", "outbox", "peer_id",
        "receive", "send_event",
    )  # fmt: skip

    def __init__(
        self, receive: Receive, send: Send, codec: MessageCodec, address: str, deadline: float
    ) -> None:
        self.receive = receive
        self.send_event = send
        self.codec = codec
        self.address = address
        self.deadline = deadline
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.call_id: str | None = None
        self.peer_id: str | None = None
        self.close_code: int | None = None

    def send(self, message: ServerMessage) -> None:
        self.outbox.put_nowait(self.codec.encode(message))

    async def write_loop(self) -> None:
        while (frame := await self.outbox.get()) is not None:
            await self.send_event({"type": "websocket.send", "text": frame})
        if self.close_code is not None:
            await self.send_event({"type": "websocket.close", "code": self.close_code})

    def finish_writing(self) -> None:
        """Let the writer send what is queued, then stop."""
        self.outbox.put_nowait(None)

    def close_after_writing(self, code: int) -> None:
        """Sends what is queued, then closes the socket with `code`."""
        if self.close_code is None:
            self.close_code = code
            self.finish_writing()

    async def refuse(self, frame: str) -> None:
        """Accepts only to say why (`frame`), then closes (1008)."""
        with contextlib.suppress(Exception):
            await self.send_event({"type": "websocket.accept"})
            await self.send_event({"type": "websocket.send", "text": frame})
            await self.send_event({"type": "websocket.close", "code": POLICY_VIOLATION})
