"""The WebSocket to the signaling server, speaking `docs/protocol.md`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable

import msgspec
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from peercall.client.errors import ServerUnreachable
from peercall.protocol import (
    Ack,
    ClientMessage,
    Error,
    ErrorCode,
    Joined,
    Ping,
    Resume,
    Resumed,
    ServerMessage,
    Signal,
)

logger = logging.getLogger(__name__)

# Server messages are small but SDP with every candidate in it can reach a few kB;
# this only bounds what we accept from a misbehaving server.
MAX_SERVER_MESSAGE_BYTES = 1 << 20
OPEN_TIMEOUT = 10.0  # seconds to connect and upgrade


class SignalingConnection:
    """Sends client messages and yields validated server messages.

    `ResumableSignaling` adds the protocol's keep-alive `ping` once in a call.
    """

    def __init__(self, websocket: websockets.ClientConnection) -> None:
        self._websocket = websocket
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(ServerMessage)

    @classmethod
    async def open(cls, url: str) -> SignalingConnection:
        try:
            websocket = await websockets.connect(
                url, open_timeout=OPEN_TIMEOUT, max_size=MAX_SERVER_MESSAGE_BYTES
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise ServerUnreachable(f"Cannot reach the server at {url}: {exc}") from None
        return cls(websocket)

    async def send(self, message: ClientMessage) -> None:
        try:
            await self._websocket.send(self._encoder.encode(message).decode())
        except ConnectionClosed:
            raise ServerUnreachable("The connection to the server was lost.") from None

    async def receive(self) -> ServerMessage:
        """The next message we understand; raises ServerUnreachable once the socket is gone."""
        while True:
            try:
                frame = await self._websocket.recv()
            except ConnectionClosed:
                raise ServerUnreachable("The connection to the server was lost.") from None
            try:
                return self._decoder.decode(frame)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                # A newer server may send what this client does not know yet.
                logger.warning("ignoring a message from the server: %s", exc)

    async def close(self) -> None:
        await self._websocket.close()


RECONNECT_FIRST_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 10.0
ACK_DELAY_SECONDS = 0.2
MAX_UNCONFIRMED = 256
# Answers to `resume` that put it off (the place is kept), where others mean it is gone.
PUT_OFF = frozenset({ErrorCode.STORAGE_UNAVAILABLE, ErrorCode.RATE_LIMITED})


class ResumableSignaling:
    """A member's signaling link that survives dropped connections (docs/protocol.md,
    "Resuming"): it numbers our signals, drops server messages it has seen, sends
    `ack`s, and on a drop reconnects with back-off and jitter and `resume`s, for as
    long as the server keeps the place (`resume_seconds`)."""

    def __init__(
        self,
        url: str,
        connection: SignalingConnection,
        joined: Joined,
        *,
        on_lost: Callable[[], None],
        on_resumed: Callable[[Resumed], None],
    ) -> None:
        self._url = url
        self._connection: SignalingConnection | None = connection
        self._call_id = joined.call_id
        self._peer_id = joined.peer_id
        self._token = joined.resume_token
        self._resume_seconds = joined.resume_seconds
        self._ping_seconds = joined.ping_seconds
        self._on_lost = on_lost
        self._on_resumed = on_resumed
        self._last_seq = 0
        self._our_seq = 0
        self._unconfirmed: deque[Signal] = deque(maxlen=MAX_UNCONFIRMED)
        self._ack_task: asyncio.Task[None] | None = None
        # The server closes connections it has not heard from in a while
        # (`idle_seconds`); WebSocket-level pings do not count, messages do.
        self._keepalive = asyncio.create_task(self._keep_alive())

    async def send(self, message: ClientMessage) -> None:
        """Sends a message now; raises ServerUnreachable while disconnected."""
        if self._connection is None:
            raise ServerUnreachable("The connection to the server was lost.")
        await self._connection.send(message)

    async def send_signal(self, signal: Signal) -> None:
        """Sends a signal, numbered and kept: one sent while disconnected goes after `resumed`."""
        self._our_seq += 1
        numbered = msgspec.structs.replace(signal, seq=self._our_seq)
        self._unconfirmed.append(numbered)
        with contextlib.suppress(ServerUnreachable):
            await self.send(numbered)

    async def receive(self) -> ServerMessage:
        """The next new message; reconnects and resumes by itself after a drop, and
        raises ServerUnreachable only once the place cannot be taken back."""
        while True:
            try:
                if self._connection is None:
                    raise ServerUnreachable("The connection to the server was lost.")
                message = await self._connection.receive()
            except ServerUnreachable:
                await self._resume()
                continue
            seq = getattr(message, "seq", None)
            if seq is not None:
                if seq <= self._last_seq:
                    continue  # seen already
                self._last_seq = seq
                self._schedule_ack()
            return message

    async def close(self) -> None:
        self._keepalive.cancel()
        if self._ack_task is not None:
            self._ack_task.cancel()
        if self._connection is not None:
            await self._connection.close()

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._ping_seconds)
            with contextlib.suppress(ServerUnreachable):
                await self.send(Ping())

    def _schedule_ack(self) -> None:
        if self._ack_task is None or self._ack_task.done():
            self._ack_task = asyncio.create_task(self._ack_soon())

    async def _ack_soon(self) -> None:
        await asyncio.sleep(ACK_DELAY_SECONDS)
        with contextlib.suppress(ServerUnreachable):
            await self.send(Ack(seq=self._last_seq))

    async def _resume(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None
        if self._resume_seconds <= 0 or not self._token:
            raise ServerUnreachable("The connection to the server was lost.")
        self._on_lost()
        deadline = asyncio.get_running_loop().time() + self._resume_seconds
        delay = RECONNECT_FIRST_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(delay * (0.5 + random.random()))  # jitter: not all at once
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            try:
                connection = await SignalingConnection.open(self._url)
            except ServerUnreachable:
                continue
            try:
                await connection.send(
                    Resume(
                        call_id=self._call_id,
                        peer_id=self._peer_id,
                        resume_token=self._token,
                        last_seq=self._last_seq,
                    )
                )
                reply = await connection.receive()
            except ServerUnreachable:
                continue
            if isinstance(reply, Error) and reply.code in PUT_OFF:
                await connection.close()  # the place is kept: try again later
                continue
            if not isinstance(reply, Resumed):
                await connection.close()
                raise ServerUnreachable("The server could not give our place in the call back.")
            self._connection = connection
            await self._send_unconfirmed(reply.last_received)
            self._on_resumed(reply)
            return
        raise ServerUnreachable("The connection to the server was lost.")

    async def _send_unconfirmed(self, handled: int | None) -> None:
        # Unknown (the server restarted): sending again could double something.
        again = [] if handled is None else [s for s in self._unconfirmed if (s.seq or 0) > handled]
        self._unconfirmed = deque(again, maxlen=MAX_UNCONFIRMED)
        for signal in again:
            await self.send(signal)
