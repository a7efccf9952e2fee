"""What a call sends: a source replaced mid-call (`SwitchableTrack.replace_source`)."""

import asyncio
import itertools
from fractions import Fraction

import av
import pytest
from aiortc import MediaStreamTrack
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError

from peercall.client.media import TestPatternVideo as Bars  # not a test class
from peercall.client.media import ToneAudio
from peercall.client.sending import SwitchableTrack


async def test_frames_come_from_the_new_source_once_it_is_replaced():
    sent = SwitchableTrack(Bars(640, 480))
    assert (await sent.recv()).width == 640
    sent.replace_source(Bars(320, 240))
    assert (await sent.recv()).width == 320


async def test_the_old_source_ending_no_longer_ends_what_is_sent():
    camera, screen = Bars(), Bars()
    sent = SwitchableTrack(camera)
    sent.replace_source(screen)
    camera.stop()  # the owner closes what was switched away from
    assert sent.readyState == "live"
    screen.stop()
    assert sent.readyState == "ended"


def seconds(frame) -> float:
    return float(frame.pts * frame.time_base)


class HandMovedClock:
    """A monotonic clock that moves only when the test moves it, so that the times
    sent do not depend on how busy the machine is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("new_source", [Bars, ToneAudio], ids=["video", "audio"])
async def test_a_new_sources_frames_go_on_in_time_from_the_last_one_sent(new_source):
    clock = HandMovedClock()
    sent = SwitchableTrack(new_source(), clock=clock)
    for _ in range(10):
        last = await sent.recv()
    clock.now += 0.25  # between the last frame sent and the new source's first
    sent.replace_source(new_source())  # its own times start over from 0
    first = await sent.recv()
    second = await sent.recv()
    # As long after the last one as it came, not at the new source's own time.
    assert first.pts * first.time_base - last.pts * last.time_base == Fraction(1, 4)
    assert second.pts > first.pts  # and go on from there
    assert first.time_base == last.time_base


async def test_black_frames_sent_while_the_video_is_off_go_on_in_time_too():
    sent = SwitchableTrack(Bars())
    sent.enabled = False  # black frames, stamped as the source's
    for _ in range(5):
        last = await sent.recv()
    sent.replace_source(Bars())
    assert (await sent.recv()).pts > last.pts


async def test_a_source_replaced_while_its_frame_is_awaited_keeps_times_going_forward():
    sent = SwitchableTrack(Bars())
    for _ in range(30):  # a second of frames
        await sent.recv()
    awaited = asyncio.ensure_future(sent.recv())  # waits for the old source's frame
    await asyncio.sleep(0)
    sent.replace_source(Bars())
    times = [seconds(await awaited)] + [seconds(await sent.recv()) for _ in range(5)]
    assert times == sorted(set(times))


async def test_a_source_whose_times_go_back_is_sent_going_forward():
    """A file played in a loop starts over from 0 at each turn."""

    class StartsOver(Bars):
        async def recv(self):
            frame = await super().recv()
            frame.pts %= 9000  # back to 0 every tenth of a second
            return frame

    sent = SwitchableTrack(StartsOver())
    times = [seconds(await sent.recv()) for _ in range(12)]
    assert times == sorted(set(times))


async def test_the_vp8_encoder_takes_the_frames_of_a_new_source():
    """libvpx refuses a frame stamped before the first one it encoded, and aiortc opens
    a new encoder mid-call (whenever the bitrate or the size changes); a refused frame
    ends the sending of video for the rest of the call."""
    sent = SwitchableTrack(Bars())
    for _ in range(10):
        await sent.recv()
    encoder = Vp8Encoder()  # opened mid-call, as aiortc does
    encoder.encode(await sent.recv())
    sent.replace_source(Bars())  # its own times start over from 0
    payloads, _ = encoder.encode(await sent.recv())
    assert payloads


class StereoSound(MediaStreamTrack):
    """Sound as a film's may come: 44.1 kHz, stereo, planar floats, 1024 samples a frame."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._samples = 0

    async def recv(self) -> av.AudioFrame:
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 44_100
        frame.pts, frame.time_base = self._samples, Fraction(1, 44_100)
        self._samples += 1024
        return frame


async def test_sound_of_another_shape_is_sent_in_the_shape_of_the_first():
    """aiortc's Opus encoder refuses a frame of another shape than its first one, and
    its sender then sends no more sound for the rest of the call."""
    encoder = OpusEncoder()
    sent = SwitchableTrack(ToneAudio())  # 48 kHz mono, 16-bit
    for _ in range(5):
        last = await sent.recv()
        encoder.encode(last)
    sent.replace_source(StereoSound())
    frames = [await sent.recv() for _ in range(20)]
    for frame in frames:
        assert (frame.format.name, frame.layout.name, frame.sample_rate) == ("s16", "mono", 48_000)
        encoder.encode(frame)
    times = [seconds(frame) for frame in [last, *frames]]
    assert all(a < b for a, b in itertools.pairwise(times))
    # 48 kHz samples for all of the 44.1 kHz ones (less what the resampler holds back).
    assert sum(frame.samples for frame in frames) == pytest.approx(
        20 * 1024 * 48_000 / 44_100, rel=0.1
    )


async def test_a_track_that_outlives_its_sources_waits_for_the_next_one():
    """As a recording follows its peer to a new peer connection."""
    first = Bars()
    followed = SwitchableTrack(first, outlives_its_sources=True)
    last = await followed.recv()
    first.stop()  # the old peer connection's track ends
    waiting = asyncio.ensure_future(followed.recv())
    await asyncio.sleep(0.1)
    assert not waiting.done()
    assert followed.readyState == "live"
    second = Bars()
    followed.replace_source(second)
    assert seconds(await waiting) > seconds(last)  # its times go on
    second.stop()
    waiting = asyncio.ensure_future(followed.recv())
    await asyncio.sleep(0.1)
    followed.stop()  # the recording ends while it waits for another
    with pytest.raises(MediaStreamError):
        await waiting


def test_a_source_of_another_kind_or_after_the_end_is_refused():
    sent = SwitchableTrack(Bars())
    with pytest.raises(ValueError, match="Only a video track can replace a video track"):
        sent.replace_source(ToneAudio())
    sent.stop()
    with pytest.raises(ValueError, match="The video sent in this call has ended"):
        sent.replace_source(Bars())
