"""A minimal signaling client for tests: raw JSON over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

RECEIVE_TIMEOUT = 5.0


class TestClient:
    __test__ = False  # not a pytest class

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self.peer_id: str | None = None
        self.last_seq = 0  # of the numbered messages received (the call's own)
        self.resume_token: str | None = None
        # How long a receive waits; raised by a test that waits on something slow.
        self.receive_timeout = RECEIVE_TIMEOUT

    @classmethod
    async def connect(cls, url: str) -> TestClient:
        return cls(await websockets.connect(url, max_size=None))

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.connection.send(
            message if isinstance(message, str | bytes) else json.dumps(message)
        )

    async def receive(self) -> dict[str, Any]:
        """The next message, without its `seq` (kept in `seqs`, checked to rise by one)."""
        message = await self.receive_numbered()
        seq = message.pop("seq", None)
        if seq is not None:
            assert seq == self.last_seq + 1, f"seq {seq} after {self.last_seq}: {message}"
            self.last_seq = seq
        return message

    async def receive_numbered(self) -> dict[str, Any]:
        """The next message as it came, `seq` included."""
        return json.loads(await asyncio.wait_for(self.connection.recv(), self.receive_timeout))

    async def expect(self, kind: str) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == kind, message
        return message

    async def expect_error(self, code: str) -> dict[str, Any]:
        message = await self.expect("error")
        assert message["code"] == code, message
        assert message["message"], message
        return message

    async def join(self, call_id: str, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "join", "call_id": call_id, **fields})
        joined = await self.expect("joined")
        self.peer_id = joined["peer_id"]
        self.resume_token = joined["resume_token"]
        return joined

    async def drain(self) -> list[dict[str, Any]]:
        """Everything the server has queued for us: a ping's pong comes after it all."""
        await self.send({"type": "ping"})
        messages = []
        while (message := await self.receive())["type"] != "pong":
            messages.append(message)
        return messages

    async def close(self) -> None:
        await self.connection.close()


def candidate(n: int) -> dict[str, Any]:
    return {
        "candidate": f"candidate:{n} 1 udp 2122260223 192.0.2.{n % 250} {50000 + n} typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
