"""Closing what a Python client's call holds: its aiortc peer connections (closed
twice, or while they connect, with nothing left failing unretrieved) and the tracks it
wraps around the caller's media."""

import asyncio
import gc

from aiortc import RTCPeerConnection

from peercall.client.media import ToneAudio
from peercall.client.peer import close_peer_connection
from peercall.client.sending import SwitchableTrack


async def test_a_cancelled_second_close_leaves_the_first_to_finish():
    """The second close cancelled, as hanging up cancels the closes a call has under
    way: aiortc's own close must still finish."""
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


async def test_closing_while_it_connects_leaves_no_unretrieved_failure():
    """Hanging up as the call comes up: aiortc's own task connecting the transports
    finds them closed and fails, and asyncio logged "Task exception was never
    retrieved" (InvalidStateError) at ERROR, a traceback after a clean hang-up."""
    reported: list[dict] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
    try:
        for pc in (offerer, answerer):
            pc.addTransceiver("audio")
            pc.addTransceiver("video")
        ice_done = asyncio.Event()

        @answerer.on("iceconnectionstatechange")
        def checked() -> None:
            if answerer.iceConnectionState == "completed":
                ice_done.set()

        await offerer.setLocalDescription(await offerer.createOffer())
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        await offerer.setRemoteDescription(answerer.localDescription)
        async with asyncio.timeout(10):
            await ice_done.wait()
        # Now, before the DTLS handshake is through: the connect task is at it.
        assert answerer.connectionState == "connecting"
        await close_peer_connection(answerer)
        await asyncio.sleep(0.1)
        gc.collect()  # a failed task nobody awaited is reported as it is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
        await offerer.close()
    assert [context.get("message") for context in reported] == []


def test_a_switchable_track_lets_go_of_its_source_when_stopped():
    """A MediaSource can serve one call after another: a call's own wrapper must not
    stay attached to it (and be kept alive by it) once the call is over."""
    source = ToneAudio()
    track = SwitchableTrack(source)
    assert source.listeners("ended")
    track.stop()
    track.stop()  # twice is fine
    assert source.listeners("ended") == []
    assert source.readyState == "live"  # the caller's, still
    ended = SwitchableTrack(source)
    source.stop()  # the source ending ends the wrapper
    assert ended.readyState == "ended"
