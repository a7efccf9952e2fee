"""What the Python client records (`join(record_to=...)`, `--record`): pictures
stamped as aiortc's receiver stamps them (RTP's clock), given to the client's
`Recorder`, through aiortc's recorder into a file FFmpeg reads. Recordings of a real
peer are in test_switching.py and test_python_client.py."""

from __future__ import annotations

import asyncio
import itertools
from fractions import Fraction

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from peercall.client.media import ToneAudio
from peercall.client.receiving import Recorder

CLOCK = Fraction(1, 90_000)  # RTP's video clock, as received frames are stamped


class Pictures(MediaStreamTrack):
    """`count` grey pictures stamped `gaps_ms` apart in turn (a camera's capture times
    jitter), then the end."""

    kind = "video"

    def __init__(self, count: int, gaps_ms: list[int]) -> None:
        super().__init__()
        self._left = count
        self._gaps = itertools.cycle(gaps_ms)
        self._at_ms = 0

    async def recv(self) -> av.VideoFrame:
        if self._left == 0:
            self.stop()
            raise MediaStreamError
        self._left -= 1
        frame = av.VideoFrame(640, 480, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts, frame.time_base = int(self._at_ms / 1000 / CLOCK), CLOCK
        self._at_ms += next(self._gaps)
        await asyncio.sleep(0)
        return frame


async def record(track: MediaStreamTrack, path) -> list[av.VideoFrame]:
    ended = asyncio.Event()
    track.on("ended", ended.set)
    recorder = Recorder(path)
    assert recorder.add_track("someone", track)
    await recorder.start()
    await asyncio.wait_for(ended.wait(), 30)
    await recorder.stop()
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


async def test_pictures_with_jittering_times_make_a_whole_file(tmp_path):
    # 30 frames a second on average, in pairs 5 ms apart: the two fall in one 30th.
    pictures = Pictures(90, gaps_ms=[5, 61])
    frames = await record(pictures, tmp_path / "call.mp4")
    times = [frame.time for frame in frames]
    assert all(a < b for a, b in itertools.pairwise(times))
    assert 2.5 < times[-1] - times[0] < 3.1  # the three seconds they span
    assert len(frames) >= 45  # one at most per 30th: one of each pair at least


class LatePictures(Pictures):
    """The first picture a second after the sound: a key frame that took its time."""

    async def recv(self) -> av.VideoFrame:
        if self._at_ms == 0:
            await asyncio.sleep(1)
        return await super().recv()


async def test_a_picture_that_comes_after_the_sound_is_recorded_too(tmp_path):
    sound = ToneAudio()
    pictures = LatePictures(60, gaps_ms=[33, 34])
    ended = asyncio.Event()
    pictures.on("ended", ended.set)
    recorder = Recorder(tmp_path / "call.mp4")
    assert recorder.add_track("someone", sound)
    assert recorder.add_track("someone", pictures)
    await recorder.start()
    await asyncio.wait_for(ended.wait(), 30)
    await recorder.stop()
    sound.stop()
    with av.open(str(tmp_path / "call.mp4")) as container:
        assert container.streams.audio
        assert len(list(container.decode(video=0))) >= 55
