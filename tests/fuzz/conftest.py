"""One real server for the whole fuzz suite, with a call beside the attacks.

The limits are set out of the way so that the fuzzer reaches the code behind them
(they have their own tests); places are not kept after a drop, so the fuzzer's call
frees up as soon as each attempt hangs up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.servers import ServerProcess

RECEIVE_TIMEOUT = 5.0
UNLIMITED = "1000000"


class SyncClient:
    """A blocking signaling client: Hypothesis drives plain functions."""

    def __init__(self, url: str) -> None:
        # legacy=True: a connection held across calls, closed by `close()`. No
        # keep-alive pings: websockets draws their payloads from `random` in a thread of
        # its own, and Hypothesis warns of `random` used while it draws examples (the
        # server only counts messages anyway: `until_pong` sends those).
        self.connection: ClientConnection = connect(
            url, max_size=None, open_timeout=5, legacy=True, ping_interval=None
        )

    def send(self, frame: str | bytes | dict[str, Any]) -> None:
        self.connection.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    def receive(self) -> dict[str, Any]:
        return json.loads(self.connection.recv(timeout=RECEIVE_TIMEOUT))

    def until_pong(self) -> list[dict[str, Any]]:
        """Everything the server says before answering a ping: proof it is still
        reading this connection, and all it had to say about what came before."""
        self.send({"type": "ping"})
        said = []
        while (message := self.receive())["type"] != "pong":
            said.append(message)
        return said

    def join(self, call_id: str) -> dict[str, Any]:
        self.send({"type": "join", "call_id": call_id})
        joined = self.receive()
        assert joined["type"] == "joined", joined
        return joined

    def close(self) -> None:
        self.connection.close()


@dataclass
class Bystanders:
    """Two people in a call of their own, while the fuzzer attacks the server."""

    call_id: str
    alice: SyncClient
    bob: SyncClient
    alice_id: str
    bob_id: str

    def assert_call_goes_on(self) -> None:
        offer = {"type": "offer", "to": self.bob_id, "session": "s", "sdp": "v=0"}
        self.alice.send(offer)
        relayed = self.bob.receive()
        assert relayed["type"] == "offer", relayed
        assert relayed["from"] == self.alice_id
        # Nothing from any attacker ever reached them.
        assert self.alice.until_pong() == []
        assert self.bob.until_pong() == []


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(
        Path(tmp_path_factory.mktemp("fuzz")),
        env={
            "PEERCALL_MESSAGES_PER_SECOND": UNLIMITED,
            "PEERCALL_MESSAGE_BURST": UNLIMITED,
            "PEERCALL_MAX_CONNECTIONS_PER_IP": UNLIMITED,
            "PEERCALL_CALLS_PER_IP_PER_MINUTE": UNLIMITED,
            "PEERCALL_FAILED_LOOKUPS_PER_IP_PER_MINUTE": UNLIMITED,
            "PEERCALL_PASSCODE_ATTEMPTS_PER_MINUTE": UNLIMITED,
            "PEERCALL_RESUME_SECONDS": "0",
            "PEERCALL_IDLE_SECONDS": "600",
            # The bystanders' call is full: an attacker who knows its id (as these
            # do) cannot join it, so nothing of theirs may ever reach Alice or Bob.
            "PEERCALL_CALL_CAPACITY": "2",
        },
    ).start()
    yield server
    server.stop()
    # Whatever was thrown at it, the server handled it: no exception escaped to
    # the log (every one would be an `internal-error` to some client, or worse).
    assert "Traceback" not in server.log()


@pytest.fixture(scope="module")
def bystanders(fuzz_server: ServerProcess) -> Iterator[Bystanders]:
    call_id = fuzz_server.create_call()
    alice, bob = SyncClient(fuzz_server.ws_url), SyncClient(fuzz_server.ws_url)
    alice_id = alice.join(call_id)["peer_id"]
    bob_id = bob.join(call_id)["peer_id"]
    assert alice.receive()["type"] == "peer-joined"
    yield Bystanders(call_id, alice, bob, alice_id, bob_id)
    alice.close()
    bob.close()
