"""One source read by many (`Fanout.live`): sound whole, pictures the newest."""

import asyncio
from fractions import Fraction

import av
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from peercall.client.fanout import SOUND_KEPT_FRAMES, Fanout

FRAME_SAMPLES = 960  # 20 ms at 48 kHz


class Bunches(MediaStreamTrack):
    """Frames numbered from 0, `bunch` at a time: the first of each bunch is awaited
    (a turn of the event loop), the others come at once, as a capture thread's
    frames do when the loop was busy. Ends after `count`."""

    def __init__(self, kind: str, bunch: int, count: int) -> None:
        super().__init__()
        self.kind = kind
        self.bunch = bunch
        self.count = count
        self.sent = 0

    async def recv(self) -> av.AudioFrame | av.VideoFrame:
        if self.sent == self.count:
            self.stop()
            raise MediaStreamError
        if self.sent % self.bunch == 0:
            await asyncio.sleep(0.001)
        if self.kind == "audio":
            frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
            frame.sample_rate = 48_000
            frame.pts, frame.time_base = self.sent * FRAME_SAMPLES, Fraction(1, 48_000)
        else:
            frame = av.VideoFrame(16, 16, "yuv420p")
            frame.pts, frame.time_base = self.sent * 3000, Fraction(1, 90_000)
        self.sent += 1
        return frame


async def read_all(track: MediaStreamTrack, pause: float = 0.0) -> list[int]:
    """The frames' numbers, until the track ends; `pause` after each (a slow reader)."""
    numbers = []
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return numbers
        step = FRAME_SAMPLES if isinstance(frame, av.AudioFrame) else 3000
        numbers.append(frame.pts // step)
        await asyncio.sleep(pause)


async def test_every_frame_of_sound_reaches_each_reader_when_it_comes_in_bunches():
    source = Bunches("audio", bunch=5, count=40)
    fanout = Fanout()
    quick, slow = fanout.live(source), fanout.live(source)
    heard = await asyncio.gather(read_all(quick), read_all(slow, pause=0.002))
    assert heard == [list(range(40)), list(range(40))]


async def test_a_picture_reader_gets_the_newest_picture_not_a_backlog():
    source = Bunches("video", bunch=5, count=40)
    seen = await read_all(Fanout().live(source))
    # The newest of each bunch (the last bunch's is overtaken by the end).
    assert seen == list(range(4, 35, 5))


async def test_sound_a_reader_leaves_unread_is_kept_for_a_second_no_more():
    count = SOUND_KEPT_FRAMES + 70
    source = Bunches("audio", bunch=10, count=count)
    fanout = Fanout()
    late, on_time = fanout.live(source), fanout.live(source)
    reading = asyncio.ensure_future(read_all(on_time))
    first = await late.recv()  # then it reads no more until the source has ended
    assert await reading == list(range(count))
    # Then it gets the newest second (the end takes a place in it), whole and in order.
    kept = await read_all(late)
    assert first.pts == 0
    assert kept == list(range(count - SOUND_KEPT_FRAMES + 1, count))


async def test_a_reader_of_sound_that_stops_reading_does_not_stop_the_others():
    source = Bunches("audio", bunch=10, count=30)
    fanout = Fanout()
    leaving, staying = fanout.live(source), fanout.live(source)
    reading = asyncio.ensure_future(read_all(staying))
    first = await leaving.recv()
    leaving.stop()
    assert first.pts == 0
    assert await reading == list(range(30))
    with pytest.raises(MediaStreamError):
        await leaving.recv()
