"""Closing an aiortc peer connection twice, the second close cancelled (as hanging
up cancels the closes a call has under way): aiortc's own close must still finish."""

import asyncio

from aiortc import RTCPeerConnection

from peercall.client.peer import close_peer_connection


async def test_a_cancelled_second_close_leaves_the_first_to_finish():
    pc = RTCPeerConnection()
    pc.addTransceiver("audio")
    pc.createDataChannel("chat")
    await pc.setLocalDescription(await pc.createOffer())
    first = asyncio.ensure_future(pc.close())  # as aiortc does when DTLS ends
    await asyncio.sleep(0)  # under way, waiting on its transports
    second = asyncio.ensure_future(close_peer_connection(pc))
    await asyncio.sleep(0)  # waiting on the first
    second.cancel()

    await first  # raised InvalidStateError when the wait was not shielded
    assert pc.connectionState == "closed"
