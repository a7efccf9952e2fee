"""peercall's TURN REST credentials against a real coturn: fresh ones get a relay,
expired or wrongly signed ones are refused by coturn itself."""

import asyncio
import time

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection

from peercall.server.ice import turn_rest_credential
from tests.turn import TurnServer


@pytest.fixture
def turn(tmp_path):
    server = TurnServer(tmp_path / "turn").start()
    yield server
    server.stop()


async def relay_candidates(turn: TurnServer, username: str, password: str) -> list[str]:
    """The relay candidates a relay-only peer connection gathers with this credential."""
    configuration = RTCConfiguration(
        iceServers=[RTCIceServer(urls=turn.url, username=username, credential=password)],
        iceTransportPolicy=RTCIceTransportPolicy.RELAY,
    )
    pc = RTCPeerConnection(configuration)
    try:
        pc.createDataChannel("probe")
        async with asyncio.timeout(20):
            await pc.setLocalDescription(await pc.createOffer())
        return [line for line in pc.localDescription.sdp.splitlines() if "typ relay" in line]
    finally:
        await pc.close()


async def test_a_fresh_credential_gets_a_relay(turn):
    username, password = turn_rest_credential(turn.secret, "peer", int(time.time()) + 600)
    candidates = await relay_candidates(turn, username, password)
    assert candidates
    assert all(" 127.0.0.1 " in line for line in candidates)


async def test_an_expired_credential_is_refused(turn):
    username, password = turn_rest_credential(turn.secret, "peer", int(time.time()) - 1)
    assert await relay_candidates(turn, username, password) == []


async def test_a_credential_signed_with_another_secret_is_refused(turn):
    username, password = turn_rest_credential("another", "peer", int(time.time()) + 600)
    assert await relay_candidates(turn, username, password) == []
