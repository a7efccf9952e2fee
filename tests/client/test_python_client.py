"""Two Python clients (aiortc) in one call through a real server."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

import av
import pytest
from aiortc import MediaStreamTrack

from peercall.client import (
    Call,
    CallFull,
    CallNotFound,
    CallState,
    FileReceived,
    HandChanged,
    MediaSource,
    MessageReceived,
    PeerJoined,
    PeerLeft,
    PeerMediaChanged,
    ServerUnreachable,
    StateChanged,
    TrackReceived,
    create_call,
    join,
)
from peercall.client.media import ToneAudio
from tests.client.checks import (
    frames_received,
    listen,
    next_event,
    pass_over,
    received_tracks,
    watch,
)
from tests.conftest import ONE_TO_ONE
from tests.servers import ServerProcess, free_port
from tests.turn import TurnServer, relay_only_server

TONE_HZ = 440
TIMEOUT = 20


@pytest.fixture
async def calls() -> AsyncIterator[Callable[..., Awaitable[Call]]]:
    """Joins calls; every call and media source is hung up / closed after the test."""
    opened: list[Call] = []
    sources: list[MediaSource] = []

    async def join_call(link: str, *, test_pattern: bool = True) -> Call:
        media = MediaSource.test_pattern() if test_pattern else None
        if media:
            sources.append(media)
        call = await join(link, media=media)
        opened.append(call)
        return call

    yield join_call
    for call in opened:
        await call.hang_up()
    for source in sources:
        source.close()


async def connected_pair(server: ServerProcess, calls) -> tuple[Call, Call]:
    """Two Python clients with test patterns in a new call, connected."""
    link = await create_call(server.url)
    first = await calls(link)
    second = await calls(link)
    async with asyncio.timeout(TIMEOUT):
        await first.wait_connected()
        await second.wait_connected()
    return first, second


async def test_two_python_clients_see_hear_and_text_each_other(server: ServerProcess, calls):
    link = await create_call(server.url)
    first = await calls(link)
    first_events = first.events()
    assert first.state == CallState.WAITING
    second = await calls(link)
    second_events = second.events()
    joined = await next_event(first_events, PeerJoined)
    assert joined.peer_id == second.peer_id

    async with asyncio.timeout(TIMEOUT):
        await first.wait_connected()
        await second.wait_connected()

    for events in (first_events, second_events):
        tracks = await received_tracks(events)
        async with asyncio.timeout(TIMEOUT):
            video = await watch(tracks["video"])
            audio = await listen(tracks["audio"])
        assert (video.width, video.height) == (640, 480)
        assert video.luma_spread > 100, video  # the bars, not a blank picture
        assert audio.rms > 0.05, audio
        assert abs(audio.frequency - TONE_HZ) < TONE_HZ * 0.1, audio

    await first.send_text("hello second")
    await second.send_text("hello first ✓")
    assert (await next_event(second_events, MessageReceived)).text == "hello second"
    message = await next_event(first_events, MessageReceived)
    assert message.text == "hello first ✓"
    assert message.peer_id == second.peer_id

    await second.hang_up()
    left = await next_event(first_events, PeerLeft)
    assert (left.peer_id, left.reason) == (second.peer_id, "left")
    async with asyncio.timeout(TIMEOUT):
        await first.wait_for_state(CallState.PEER_LEFT)


async def test_a_raised_hand_is_told_to_everybody_and_to_whoever_joins_later(
    server: ServerProcess, calls
):
    link = await create_call(server.url)
    first, second = await calls(link), await calls(link)
    second_events = second.events()
    async with asyncio.timeout(TIMEOUT):
        await first.wait_connected()
        await second.wait_connected()
    first.raise_hand()
    assert first.hand_raised
    raised = await next_event(second_events, HandChanged)
    assert (raised.peer_id, raised.raised) == (first.peer_id, True)
    # Said again when a newcomer's channel opens: they see it without a change.
    third = await calls(link)
    third_events = third.events()
    raised = await next_event(third_events, HandChanged)
    assert (raised.peer_id, raised.raised) == (first.peer_id, True)

    first.raise_hand(False)
    for events in (second_events, third_events):
        lowered = await next_event(events, HandChanged)
        assert (lowered.peer_id, lowered.raised) == (first.peer_id, False)


async def test_files_go_both_ways_whole_while_the_call_goes_on(
    server: ServerProcess, calls, tmp_path
):
    first, second = await connected_pair(server, calls)
    first_events, second_events = first.events(), second.events()
    # Larger than what the channel buffers before a sender waits (1 MiB).
    big = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "report.pdf"
    path.write_bytes(big)

    async with asyncio.timeout(TIMEOUT * 2):
        await asyncio.gather(first.send_file(path), second.send_file(b"", name="empty.txt"))
    received = await next_event(second_events, FileReceived)
    assert (received.peer_id, received.name) == (first.peer_id, "report.pdf")
    assert received.data == big
    empty = await next_event(first_events, FileReceived)
    assert (empty.name, empty.data) == ("empty.txt", b"")

    await first.send_text("and a message after it")
    assert (await next_event(second_events, MessageReceived)).text == "and a message after it"


async def test_statistics_show_media_flowing_both_ways_with_a_round_trip(
    server: ServerProcess, calls
):
    first, second = await connected_pair(server, calls)
    (before,) = await first.stats()
    await asyncio.sleep(3)  # long enough for RTCP reports, which carry the round trip
    (after,) = await first.stats()
    assert after.peer_id == second.peer_id
    received, sent = after.bits_per_second_since(before, 3)
    # A 640x480 test pattern and a tone, each way, on loopback.
    assert received > 100_000, after
    assert sent > 100_000, after
    assert after.packets_received > before.packets_received
    assert after.packets_lost == 0
    assert after.round_trip_ms is not None
    assert 0 <= after.round_trip_ms < 500


async def test_a_receive_only_client_gets_media_and_the_sender_gets_none(
    server: ServerProcess, calls
):
    link = await create_call(server.url)
    watcher = await calls(link, test_pattern=False)
    watcher_events = watcher.events()
    sender = await calls(link)
    tracks = await received_tracks(watcher_events)
    async with asyncio.timeout(TIMEOUT):
        assert (await watch(tracks["video"])).width == 640
    assert "video" not in sender.received  # nothing was offered to it


async def test_someone_joining_again_after_leaving_reconnects(server: ServerProcess, calls):
    link = await create_call(server.url)
    host = await calls(link)
    guest = await calls(link)
    async with asyncio.timeout(TIMEOUT):
        await host.wait_connected()
    await guest.hang_up()
    async with asyncio.timeout(TIMEOUT):
        await host.wait_for_state(CallState.PEER_LEFT)
    again = await calls(link)
    async with asyncio.timeout(TIMEOUT):
        await again.wait_connected()
        await host.wait_connected()


async def test_joining_a_call_that_does_not_exist_raises_call_not_found(server: ServerProcess):
    with pytest.raises(CallNotFound, match="does not exist"):
        await join(f"{server.url}/c/{'A' * 22}")


@ONE_TO_ONE
async def test_a_third_person_gets_call_full(server: ServerProcess, calls):
    link = await create_call(server.url)
    await calls(link, test_pattern=False)
    await calls(link, test_pattern=False)
    with pytest.raises(CallFull, match="full"):
        await join(link)


async def test_no_server_raises_server_unreachable():
    with pytest.raises(ServerUnreachable, match="Cannot reach"):
        await join(f"http://127.0.0.1:{free_port()}/c/{'A' * 22}")


async def test_losing_the_server_mid_call_is_reported_and_media_goes_on(
    brief_server: ServerProcess, calls
):
    server = brief_server
    first, _ = await connected_pair(server, calls)
    server.stop()
    async with asyncio.timeout(TIMEOUT):
        await first.wait_for_state(CallState.SERVER_RECONNECTING)
        await first.wait_for_state(CallState.SERVER_LOST)  # not back within 2 s
    frames_then = first.received["video"].frames
    await asyncio.sleep(1)
    assert first.received["video"].frames > frames_then + 10  # peer to peer, still flowing


async def test_after_a_server_restart_python_clients_resume_the_call(server: ServerProcess, calls):
    first, second = await connected_pair(server, calls)
    first_events = first.events()
    server.stop()
    async with asyncio.timeout(TIMEOUT):
        await first.wait_for_state(CallState.SERVER_RECONNECTING)
    server.start()
    async with asyncio.timeout(TIMEOUT):
        await first.wait_for_state(CallState.CONNECTED)
        await second.wait_for_state(CallState.CONNECTED)
    assert first.peers == [second.peer_id]  # the same two people, same ids
    await second.hang_up()
    left = await next_event(first_events, PeerLeft)  # signaling works again
    assert left.peer_id == second.peer_id


async def test_a_python_client_stays_in_a_call_on_a_server_that_closes_silent_sockets(
    tmp_path, calls
):
    server = ServerProcess(tmp_path / "data", env={"PEERCALL_IDLE_SECONDS": "1.5"}).start()
    try:
        link = await create_call(server.url)
        first = await calls(link, test_pattern=False)
        second = await calls(link, test_pattern=False)
        async with asyncio.timeout(TIMEOUT):
            await first.wait_connected()
        states = first.events()
        await asyncio.sleep(4)  # well past idle_seconds: only the keep-alive holds it
        await second.hang_up()
        seen = []
        async with asyncio.timeout(TIMEOUT):
            async for event in states:
                seen.append(event)
                if isinstance(event, PeerLeft):
                    break
        assert StateChanged(CallState.SERVER_RECONNECTING) not in seen  # never dropped
    finally:
        server.stop()


async def test_three_python_clients_in_one_call_each_get_the_other_two(
    server: ServerProcess, calls
):
    link = await create_call(server.url)
    members, streams = [], []
    for _ in range(2):
        members.append(await calls(link))
        streams.append(members[-1].events())  # at once: tracks may come any moment
    async with asyncio.timeout(TIMEOUT):
        await members[0].wait_connected()
    states_of_first = members[0].events()  # from here on: a newcomer must not disturb
    members.append(await calls(link))
    streams.append(members[-1].events())
    async with asyncio.timeout(TIMEOUT):
        for member in members:
            await member.wait_connected()

    for index, (member, events) in enumerate(zip(members, streams, strict=True)):
        others = {m.peer_id for n, m in enumerate(members) if n != index}
        video_from: dict[str, object] = {}
        async with asyncio.timeout(TIMEOUT):
            while set(video_from) != others:
                received = await next_event(events, TrackReceived)
                if received.kind == "video":
                    video_from[received.peer_id] = received.track
            for track in video_from.values():
                seen = await watch(track)
                assert seen.luma_spread > 100, (member.peer_id, seen)
        assert set(member.peers) == others

    changes = []
    while not states_of_first.queue.empty():
        event = states_of_first.queue.get_nowait()
        if isinstance(event, StateChanged):
            changes.append(event.state)
    assert changes == [], "the first was connected all along"

    # The first leaves; the two others stay connected to each other.
    first, second, third = members
    second_events = streams[1]
    await first.hang_up()
    left = await next_event(second_events, PeerLeft)
    assert left.peer_id == first.peer_id
    assert second.state == third.state == CallState.CONNECTED
    assert second.peers == [third.peer_id]
    await second.send_text("still here")
    message = await next_event(streams[2], MessageReceived)
    assert (message.peer_id, message.text) == (second.peer_id, "still here")


@pytest.fixture
async def turn(tmp_path) -> AsyncIterator[TurnServer]:
    """Stopped after the calls (requested before `calls`): hanging up deletes relays."""
    server = TurnServer(tmp_path / "turn").start()
    yield server
    server.stop()


async def test_someone_who_comes_after_the_credentials_expired_gets_through_the_relay(
    tmp_path, turn, calls
):
    """Relay only, TURN credentials of 10 s: the host's peer connection for whoever
    comes next is made after they expired. With the credentials of its `joined`,
    coturn refused it a relay and nobody new could connect; it renews them."""
    server = relay_only_server(tmp_path, turn, PEERCALL_TURN_CREDENTIAL_SECONDS="10")
    try:
        link = await create_call(server.url)
        host = await calls(link)
        await asyncio.sleep(12)  # the credentials of its `joined` have expired
        guest = await calls(link)  # takes the open offer the host made in time
        async with asyncio.timeout(TIMEOUT):
            await host.wait_connected()
        await guest.hang_up()
        async with asyncio.timeout(TIMEOUT):
            await host.wait_for_state(CallState.PEER_LEFT)
        again = await calls(link)  # needs a relay made now
        async with asyncio.timeout(TIMEOUT):
            await again.wait_connected()
            await host.wait_connected()
        # Relay only: connected means through coturn.
        assert [stats.peer_id for stats in await again.stats()] == [host.peer_id]
        for call in (again, host):
            await call.hang_up()
    finally:
        server.stop()


async def test_each_side_learns_whether_the_other_sends_sound_and_picture(
    server: ServerProcess, calls
):
    """As the page says it on the data channel (`media-state`): a receive-only client
    sends neither, so the other side can say so rather than show a black picture."""
    link = await create_call(server.url)
    watcher = await calls(link, test_pattern=False)
    watcher_events = watcher.events()
    sender = await calls(link)
    sender_events = sender.events()
    told_watcher = await next_event(watcher_events, PeerMediaChanged)
    assert told_watcher == PeerMediaChanged(peer_id=sender.peer_id, audio=True, video=True)
    told_sender = await next_event(sender_events, PeerMediaChanged)
    assert told_sender == PeerMediaChanged(peer_id=watcher.peer_id, audio=False, video=False)


async def test_muting_and_turning_video_off_send_silence_and_black_and_say_so(
    server: ServerProcess, calls
):
    """As a browser's Mute and Camera off: same senders (nothing renegotiated),
    silence and a black picture, and the other side is told."""
    link = await create_call(server.url)
    speaker = await calls(link)
    listener = await calls(link, test_pattern=False)
    events = listener.events()
    tracks = await received_tracks(events)
    assert await next_event(events, PeerMediaChanged) == PeerMediaChanged(
        peer_id=speaker.peer_id, audio=True, video=True
    )
    async with asyncio.timeout(TIMEOUT):
        assert (await listen(tracks["audio"])).rms > 0.05
        assert (await watch(tracks["video"])).luma_spread > 100  # the bars

    speaker.set_muted(True)
    speaker.set_video_off(True)
    assert (speaker.muted, speaker.video_off) == (True, True)
    muted = await next_event(events, PeerMediaChanged)
    assert (muted.audio, muted.video) == (False, True)
    assert await next_event(events, PeerMediaChanged) == PeerMediaChanged(
        peer_id=speaker.peer_id, audio=False, video=False
    )
    async with asyncio.timeout(TIMEOUT):
        await pass_over(tracks["audio"])  # the sound from before it was muted
        assert (await listen(tracks["audio"])).rms < 0.001
        await watch(tracks["video"], 15)
        assert (await watch(tracks["video"])).luma_spread < 10

    speaker.set_muted(False)
    speaker.set_video_off(False)
    await next_event(events, PeerMediaChanged)
    assert await next_event(events, PeerMediaChanged) == PeerMediaChanged(
        peer_id=speaker.peer_id, audio=True, video=True
    )
    async with asyncio.timeout(TIMEOUT):
        await pass_over(tracks["audio"])  # the silence from before
        heard = await listen(tracks["audio"])
        assert heard.rms > 0.05
        assert abs(heard.frequency - TONE_HZ) < 20
        await watch(tracks["video"], 15)
        assert (await watch(tracks["video"])).luma_spread > 100


async def test_who_joins_later_reads_what_was_said_before_once(server: ServerProcess, calls):
    link = await create_call(server.url)
    first, second = await calls(link), await calls(link)
    async with asyncio.timeout(TIMEOUT):
        await first.wait_connected()
    heard = second.events()
    await first.send_text("said before you came")
    live = await next_event(heard, MessageReceived)
    assert (live.text, live.earlier) == ("said before you came", False)
    await second.send_text("me too")

    late = await calls(link)
    events = late.events()
    async with asyncio.timeout(TIMEOUT):
        earlier = {
            (message.peer_id, message.text, message.earlier)
            for message in [await next_event(events, MessageReceived) for _ in range(2)]
        }
    assert earlier == {
        (first.peer_id, "said before you came", True),
        (second.peer_id, "me too", True),
    }
    await first.send_text("and now")
    now = await next_event(events, MessageReceived)  # not one of the earlier again
    assert (now.text, now.earlier) == ("and now", False)


async def frames_over(call: Call, kind: str, seconds: float = 1.5) -> int:
    """Frames of `kind` that `call` decoded over a while."""

    def decoded() -> int:
        stats = call.received.get(kind)
        return stats.frames if stats else 0

    before = decoded()
    await asyncio.sleep(seconds)
    return decoded() - before


async def until_video_comes(call: Call) -> None:
    async with asyncio.timeout(TIMEOUT):
        while await frames_over(call, "video", seconds=0.5) == 0:
            pass


async def test_a_client_can_stop_the_video_coming_to_it_and_keep_the_sound(
    server: ServerProcess, calls
):
    first, second = await connected_pair(server, calls)
    await until_video_comes(second)
    second.set_incoming_video(False)
    await asyncio.sleep(0.5)  # what was on its way
    assert await frames_over(second, "video") == 0
    assert await frames_over(second, "audio") > 20  # 20 ms frames: the sound goes on
    assert await frames_over(first, "video") > 10  # only what comes to `second` stops

    second.set_incoming_video(True)
    await until_video_comes(second)


async def test_an_event_stream_its_reader_dropped_holds_no_more_events(
    server: ServerProcess, calls
):
    """`async for event in call.events(): ... break` drops the stream: the call kept
    it, with every later event in it (received files' bytes too), for good."""
    first, second = await connected_pair(server, calls)
    stream = second.events()
    queue = weakref.ref(stream.queue)
    await first.send_text("one")
    assert (await next_event(stream, MessageReceived)).text == "one"
    del stream
    gc.collect()
    assert queue() is None
    kept = second.events()  # a stream still held goes on receiving
    await first.send_text("two")
    assert (await next_event(kept, MessageReceived)).text == "two"


async def test_a_recording_goes_on_through_a_new_peer_connection(tmp_path, turn):
    """The relay restarts mid-call: the recorder connects to the sender again, with a
    new peer connection, and records on (the recording used to end at the break)."""
    server = relay_only_server(tmp_path, turn)
    pattern = MediaSource.test_pattern()
    recording = tmp_path / "call.mp4"
    try:
        link = await create_call(server.url)
        sender = await join(link, media=pattern)
        recorder = await join(link, record_to=recording)
        try:
            await frames_received(recorder, "video", 60)
            turn.stop()
            turn.start()  # same address and secret, no allocation left
            async with asyncio.timeout(20):
                await recorder.wait_for_state(CallState.RECONNECTING)
            async with asyncio.timeout(60):
                await recorder.wait_connected()
            await frames_received(recorder, "video", 60)  # from the new peer connection
        finally:
            await recorder.hang_up()
            await sender.hang_up()
    finally:
        pattern.close()
        server.stop()

    with av.open(str(recording)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert all(a < b for a, b in itertools.pairwise(times))
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    break_at = gaps.index(max(gaps))
    assert max(gaps) > 3, max(gaps)  # the break, as long as it lasted (in seconds)
    assert len(times[break_at + 1 :]) >= 50, len(times[break_at + 1 :])  # and after it


async def test_python_clients_connect_again_when_their_path_is_gone(tmp_path, turn, calls):
    """aiortc cannot restart ICE. Relay only, and the relay restarts: the relays the
    call went through are gone, and both clients used to stay "Reconnecting" for good.
    A broken one is replaced, with a new session, by whichever side notices first
    (both at once: they agree on the smaller peer id's). They notice when nothing
    has come back for 10 s while they send media, not when aiortc's consent checks
    have gone unanswered (6 of them, 4-6 s apart: 24 s or more)."""
    server = relay_only_server(tmp_path, turn)
    try:
        first, second = await connected_pair(server, calls)
        said = {first: first.events(), second: second.events()}
        for call, text in ((first, "before the break"), (second, "me too")):
            await call.send_text(text)
        assert (await next_event(said[second], MessageReceived)).text == "before the break"
        assert (await next_event(said[first], MessageReceived)).text == "me too"
        turn.stop()
        turn.start()  # same address and secret, no allocation left
        events = second.events()  # the tracks of the peer connection to come
        async with asyncio.timeout(20):
            await second.wait_for_state(CallState.RECONNECTING)
        async with asyncio.timeout(60):
            await first.wait_connected()
            await second.wait_connected()
        tracks = await received_tracks(events)  # from the new peer connection
        async with asyncio.timeout(TIMEOUT):
            assert (await watch(tracks["video"])).width == 640
        assert first.peers == [second.peer_id]
        assert second.peers == [first.peer_id]
        # Each sent its messages again on the new channel: the other tells them once.
        await first.send_text("after the break")
        await second.send_text("welcome back")
        assert (await next_event(said[second], MessageReceived)).text == "after the break"
        assert (await next_event(said[first], MessageReceived)).text == "welcome back"
        for call in (first, second):
            await call.hang_up()
    finally:
        server.stop()


class InBunches(MediaStreamTrack):
    """`source`'s sound five frames at a time: the first awaited, the other four at
    once, as a capture thread's frames come when the event loop was busy."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.held: deque[av.AudioFrame] = deque()

    async def recv(self) -> av.AudioFrame:
        if not self.held:
            self.held.extend([await self.source.recv() for _ in range(5)])
        return self.held.popleft()


async def test_sound_that_comes_in_bunches_reaches_the_listener_whole(server):
    """Each frame left out is 20 ms cut out of the sound. aiortc's MediaRelay, which
    lets one source feed every peer connection, gave a copy that is not buffered
    the newest frame only: four of every five here (peercall.client.fanout)."""
    link = await create_call(server.url)
    media = MediaSource(audio=InBunches(ToneAudio(TONE_HZ)))
    speaker = await join(link, media=media)
    listener = await join(link)
    try:
        received = await next_event(listener.events(), TrackReceived)
        async with asyncio.timeout(TIMEOUT):
            heard = await listen(received.track, seconds=2)
    finally:
        await listener.hang_up()
        await speaker.hang_up()
        media.close()
    assert heard.missing <= 0.1, heard  # at most a few frames, once, on a busy machine
    assert abs(heard.frequency - TONE_HZ) < 20
