"""The WebSocket endpoint: read a frame, validate it, apply it, write what it causes.

Each connection has an outbox (a queue and one writer task), so relaying a signal
never waits on the recipient's socket and every recipient gets its messages in the
order the call state produced them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable

from starlette.websockets import WebSocket, WebSocketState

from peercall.config import Settings
from peercall.protocol import (
    ClientMessage,
    ErrorCode,
    Join,
    Joined,
    Leave,
    LeaveReason,
    Left,
    MessageCodec,
    Ping,
    Pong,
    ProtocolError,
    ServerMessage,
    error_message,
)
from peercall.server.calls import CallRoster, Delivery
from peercall.server.ice import ice_servers_for
from peercall.server.store import CallStore, EventKind

logger = logging.getLogger("peercall.signaling")


def short_id(identifier: str) -> str:
    """Enough of an id to follow it in logs without handing out the call link."""
    return identifier[:6] + "…"


class Connection:
    """One client's WebSocket and its place in a call, if any."""

    __slots__ = ("call_id", "codec", "outbox", "peer_id", "websocket")

    def __init__(self, websocket: WebSocket, codec: MessageCodec) -> None:
        self.websocket = websocket
        self.codec = codec
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.call_id: str | None = None
        self.peer_id: str | None = None

    def send(self, message: ServerMessage) -> None:
        self.outbox.put_nowait(self.codec.encode(message))

    async def write_loop(self) -> None:
        while (frame := await self.outbox.get()) is not None:
            await self.websocket.send_text(frame)

    def finish_writing(self) -> None:
        """Let the writer send what is queued, then stop."""
        self.outbox.put_nowait(None)


class SignalingHub:
    """Serves every signaling connection of this process."""

    def __init__(
        self,
        settings: Settings,
        store: CallStore,
        roster: CallRoster,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.roster = roster
        self.clock = clock
        self.codec = MessageCodec(settings.max_message_bytes)
        self._members: dict[str, Connection] = {}

    @property
    def connected_members(self) -> int:
        return len(self._members)

    async def serve(self, websocket: WebSocket) -> None:
        """The ASGI WebSocket handler: runs until the client goes away."""
        await websocket.accept()
        connection = Connection(websocket, self.codec)
        writer = asyncio.create_task(connection.write_loop())
        try:
            await self._read_loop(connection)
        finally:
            await self._leave(connection, "disconnected")
            connection.finish_writing()
            if websocket.client_state is WebSocketState.DISCONNECTED:
                writer.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer

    async def _read_loop(self, connection: Connection) -> None:
        while True:
            event = await connection.websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            frame = event.get("text")
            if frame is None:
                frame = event.get("bytes") or b""
            try:
                await self._dispatch(connection, self.codec.decode(frame))
            except ProtocolError as error:
                connection.send(error_message(error))
            except Exception:
                # Never let one bad message take the connection (or others) down,
                # and never show the client a traceback.
                logger.exception("failed to handle a message")
                connection.send(error_message(ProtocolError(ErrorCode.INTERNAL_ERROR)))

    async def _dispatch(self, connection: Connection, message: ClientMessage) -> None:
        match message:
            case Ping():
                connection.send(Pong())
            case Join():
                await self._join(connection, message)
            case Leave():
                call_id = connection.call_id
                if call_id is None:
                    raise ProtocolError(ErrorCode.NOT_IN_CALL)
                await self._leave(connection, "left")
                connection.send(Left(call_id=call_id))
            case _:
                if connection.call_id is None or connection.peer_id is None:
                    raise ProtocolError(ErrorCode.NOT_IN_CALL)
                self._deliver(self.roster.relay(connection.call_id, connection.peer_id, message))

    async def _join(self, connection: Connection, message: Join) -> None:
        if connection.call_id is not None:
            raise ProtocolError(ErrorCode.ALREADY_IN_CALL)
        record = await self.store.get_call(message.call_id)
        if record is None:
            raise ProtocolError(ErrorCode.CALL_NOT_FOUND)
        if record.ended:
            raise ProtocolError(ErrorCode.CALL_ENDED)
        result = self.roster.join(message.call_id, message.name)
        peer_id = result.member.peer_id
        connection.call_id, connection.peer_id = message.call_id, peer_id
        self._members[peer_id] = connection
        connection.send(
            Joined(
                call_id=message.call_id,
                peer_id=peer_id,
                peers=result.peers,
                ice_servers=ice_servers_for(self.settings, peer_id),
                capacity=self.roster.capacity,
                ice_transport_policy=self.settings.ice_transport_policy,
            )
        )
        self._deliver(result.deliveries)
        logger.info("join call=%s peer=%s", short_id(message.call_id), short_id(peer_id))
        await self._record(message.call_id, "join", peer_id)

    async def _leave(self, connection: Connection, reason: LeaveReason) -> None:
        call_id, peer_id = connection.call_id, connection.peer_id
        if call_id is None or peer_id is None:
            return
        connection.call_id = connection.peer_id = None
        self._members.pop(peer_id, None)
        self._deliver(self.roster.leave(call_id, peer_id, reason))
        logger.info("leave call=%s peer=%s (%s)", short_id(call_id), short_id(peer_id), reason)
        await self._record(call_id, "leave", peer_id)

    async def _record(self, call_id: str, kind: EventKind, peer_id: str) -> None:
        # History is for the operator; a storage hiccup must not break the call.
        try:
            await self.store.record_event(call_id, kind, peer_id, self.clock())
        except Exception:
            logger.exception("could not record %s of call %s", kind, short_id(call_id))

    def _deliver(self, deliveries: Iterable[Delivery]) -> None:
        for delivery in deliveries:
            recipient = self._members.get(delivery.to)
            if recipient is not None:
                recipient.send(delivery.message)
