"""What a call sends of one kind: a source's frames, which the call can switch off
(mute, camera off) and replace (another camera, a screen), as a browser's track with
`enabled` and `replaceTrack`. What is sent keeps one shape in time and format across
sources, because aiortc's encoders and sender give up for good at the first frame that
breaks it."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from fractions import Fraction

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

Frame = av.AudioFrame | av.VideoFrame


class SwitchableTrack(MediaStreamTrack):
    """`source` as sent in a call, which can be switched off and on again: while
    `enabled` is False it sends silence or a black picture, of the same shape and
    timing, as a browser does for a track that is not enabled (its mute and camera
    off). Its source can be replaced (`replace_source`: a screen in place of a
    camera, as a browser's replaceTrack). The peer connections keep their senders:
    nothing is renegotiated."""

    def __init__(
        self,
        source: MediaStreamTrack,
        *,
        outlives_its_sources: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`outlives_its_sources`: a source that ends does not end this track, whose
        `recv` then waits for the next one (`replace_source`) until it is stopped.
        `clock` (seconds, never going back) times the gap between one source's last
        frame and the next one's first; tests give a clock of their own, since a busy
        machine's would make that gap anything."""
        super().__init__()
        self._clock = clock
        self.kind = source.kind
        self.enabled = True
        self._source = source
        self._outlives_its_sources = outlives_its_sources
        self._source_replaced = asyncio.Event()
        self._end_with(source)
        # Seconds added to the source's frame times, so that what is sent goes on in
        # time from one source to the next (see `_continue_times`).
        self._time_shift = Fraction(0)
        self._timed_source: object = source  # the source that shift is for
        self._last_sent: tuple[Fraction, float] | None = None  # frame time, clock
        # Audio: the format, layout and rate of the first frame sent, which every later
        # one is converted to (see `_in_sent_shape`), and the converter in use.
        self._audio_shape: tuple[str, str, int] | None = None
        self._converter: tuple[object, tuple[str, str, int], av.AudioResampler] | None = None
        self._ready: deque[Frame] = deque()  # converted, not sent yet

    def replace_source(self, source: MediaStreamTrack) -> None:
        """Sends `source` from its next frame on, in place of the one sent now (which
        is left as it is: its owner closes it). Its frame times are moved on to follow
        the last one sent."""
        if source.kind != self.kind:
            raise ValueError(f"Only a {self.kind} track can replace a {self.kind} track.")
        if self.readyState != "live":
            raise ValueError(f"The {self.kind} sent in this call has ended.")
        with contextlib.suppress(KeyError):
            self._source.remove_listener("ended", self.stop)
        self._source = source
        self._source_replaced.set()
        self._end_with(source)

    def _end_with(self, source: MediaStreamTrack) -> None:
        if not self._outlives_its_sources:
            source.on("ended", self.stop)

    async def recv(self) -> av.AudioFrame | av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        while not self._ready:
            source = self._source  # may be replaced while its frame is awaited
            try:
                received = await source.recv()
            except MediaStreamError:
                if not self._outlives_its_sources:
                    raise
                await self._next_source_after(source)
                continue
            for frame in self._in_sent_shape(received, source):
                self._continue_times(frame, source)
                self._ready.append(frame)
        frame = self._ready.popleft()
        if self.enabled:
            return frame
        blank = _silence(frame) if isinstance(frame, av.AudioFrame) else _black(frame)
        blank.pts, blank.time_base = frame.pts, frame.time_base
        return blank

    def _in_sent_shape(self, frame: Frame, source: object) -> list[Frame]:
        """`frame`, or what it becomes in the shape of the first audio frame sent.
        aiortc's Opus encoder sets its resampler up for the first frame it gets and
        refuses any other shape (ValueError), and its sender then sends no more sound
        for the rest of the call: the tone (mono) followed by a film's sound (stereo)
        would. Pictures need nothing: the video encoders convert every frame and open
        again at a new size."""
        if not isinstance(frame, av.AudioFrame):
            return [frame]
        shape = (frame.format.name, frame.layout.name, frame.sample_rate)
        if self._audio_shape is None:
            self._audio_shape = shape
        if shape == self._audio_shape:
            return [frame]
        if self._converter is None or self._converter[:2] != (source, shape):
            sent_format, sent_layout, sent_rate = self._audio_shape
            resampler = av.AudioResampler(format=sent_format, layout=sent_layout, rate=sent_rate)
            self._converter = (source, shape, resampler)
        return list(self._converter[2].resample(frame))

    def _continue_times(self, frame: av.AudioFrame | av.VideoFrame, source: object) -> None:
        """Keeps the times sent going forward, whatever the sources do. A new source's
        times start over (from 0, for most), and a time that goes back stops the
        video for good: libvpx refuses a frame stamped before the first one it encoded,
        aiortc opens a new encoder whenever the bitrate or the size changes, and its
        sender gives up at the first refused frame (seen: after a source had run 10 s,
        the page received no video packet again). As with a browser's replaceTrack,
        the times go on instead: the first frame of a new source, or one stamped no
        later than the last one sent, comes as long after the last one as it really
        did (1 ms at least). The frame is changed in place."""
        if frame.pts is None or frame.time_base is None:
            return
        now = self._clock()
        at = frame.pts * frame.time_base + self._time_shift
        if self._last_sent is not None and (
            source is not self._timed_source or at <= self._last_sent[0]
        ):
            last_time, last_sent_at = self._last_sent
            waited = Fraction(round((now - last_sent_at) * 1_000_000), 1_000_000)
            next_time = last_time + max(waited, Fraction(1, 1000))
            self._time_shift += next_time - at
            at = next_time
        self._timed_source = source
        frame.pts = math.ceil(at / frame.time_base)
        self._last_sent = (at, now)

    async def _next_source_after(self, ended: MediaStreamTrack) -> None:
        """Waits until a source replaces `ended`; raises MediaStreamError if this track
        is stopped first."""
        while self._source is ended and self.readyState == "live":
            self._source_replaced.clear()
            await self._source_replaced.wait()
        if self.readyState != "live":
            raise MediaStreamError

    def stop(self) -> None:
        # The source may outlive the call (a MediaSource used for the next one too).
        with contextlib.suppress(KeyError):  # stopped already
            self._source.remove_listener("ended", self.stop)
        super().stop()
        self._source_replaced.set()  # a recv waiting for another source: it is over


def sends_its_own(track: MediaStreamTrack | None) -> bool:
    """Whether `track` sends something of its own: there, not ended, not switched off."""
    return track is not None and track.readyState == "live" and getattr(track, "enabled", True)


def _silence(frame: av.AudioFrame) -> av.AudioFrame:
    silent = av.AudioFrame(
        format=frame.format.name, layout=frame.layout.name, samples=frame.samples
    )
    for plane in silent.planes:
        plane.update(bytes(plane.buffer_size))
    silent.sample_rate = frame.sample_rate
    return silent


def _black(frame: av.VideoFrame) -> av.VideoFrame:
    black = av.VideoFrame(frame.width, frame.height, "yuv420p")
    luma, *chroma = black.planes
    luma.update(bytes([16]) * luma.buffer_size)  # video black, not below it
    for plane in chroma:
        plane.update(bytes([128]) * plane.buffer_size)
    return black
