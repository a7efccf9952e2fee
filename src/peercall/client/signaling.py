"""The WebSocket to the signaling server, speaking `docs/protocol.md`."""

from __future__ import annotations

import logging

import msgspec
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from peercall.client.errors import ServerUnreachable
from peercall.protocol import ClientMessage, ServerMessage

logger = logging.getLogger(__name__)

# Server messages are small but SDP with every candidate in it can reach a few kB;
# this only bounds what we accept from a misbehaving server.
MAX_SERVER_MESSAGE_BYTES = 1 << 20
OPEN_TIMEOUT = 10.0  # seconds to connect and upgrade


class SignalingConnection:
    """Sends client messages and yields validated server messages.

    WebSocket-level pings (sent by `websockets` every 20 s) keep proxies from closing
    an idle socket, so no protocol `ping` is needed here.
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
