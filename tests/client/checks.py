"""What arrived in a call: events awaited, and received tracks measured from their
decoded frames."""

from __future__ import annotations

import asyncio
import itertools
import math
import statistics
from array import array
from collections.abc import AsyncIterator
from dataclasses import dataclass
from fractions import Fraction
from typing import TypeVar

import av
from aiortc import MediaStreamTrack

from peercall.client import Call, CallEvent, TrackReceived
from peercall.client.fanout import SOUND_KEPT_FRAMES

AUDIO_SAMPLE_RATE = 48_000
EVENT_TIMEOUT = 20
E = TypeVar("E")


async def next_event(events: AsyncIterator[CallEvent], kind: type[E]) -> E:
    """The next event of `kind`, skipping others; fails if it does not come."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        async for event in events:
            if isinstance(event, kind):
                return event
    raise AssertionError(f"the call ended before a {kind.__name__}")


async def received_tracks(events: AsyncIterator[CallEvent]) -> dict[str, MediaStreamTrack]:
    """The audio and video tracks the other side sends, by kind."""
    tracks: dict[str, MediaStreamTrack] = {}
    while len(tracks) < 2:
        received = await next_event(events, TrackReceived)
        tracks[received.kind] = received.track
    return tracks


@dataclass
class HeardAudio:
    rms: float  # 0..1
    frequency: float  # from zero crossings, Hz
    missing: float  # seconds the frames' times skip: sound that never came


@dataclass
class SeenVideo:
    frames: int
    width: int
    height: int
    luma_spread: int  # brightest minus darkest pixel of the middle row of the last frame


async def listen(track: MediaStreamTrack, seconds: float = 1.0) -> HeardAudio:
    """Decoded audio over `seconds`: how loud, its pitch (first channel), and how
    much of it never came."""
    samples: list[int] = []
    missing = Fraction(0)
    next_starts: Fraction | None = None  # where the frame after the last one begins
    while len(samples) < seconds * AUDIO_SAMPLE_RATE:
        frame: av.AudioFrame = await track.recv()
        starts = frame.pts * frame.time_base
        if next_starts is not None and starts > next_starts:
            missing += starts - next_starts
        next_starts = starts + Fraction(frame.samples, frame.sample_rate)
        channels = len(frame.layout.channels)
        pcm = array("h", bytes(frame.planes[0]))[: frame.samples * channels]
        samples.extend(pcm[::channels])
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    return HeardAudio(rms=rms, frequency=pitch(samples), missing=float(missing))


async def pass_over(track: MediaStreamTrack) -> None:
    """Reads past the sound a reader left unread meanwhile (a received track keeps up
    to SOUND_KEPT_FRAMES of it, see peercall.client.fanout) and what was on its way
    (half a second)."""
    await listen(track, SOUND_KEPT_FRAMES * 0.02 + 0.5)


def pitch(samples: list[int]) -> float:
    """The tone's frequency, from zero crossings: the median of tenths of a second,
    so that a stretch where frames were lost (each loss a jump in the wave) does
    not move it: over a whole second, a listener that lost frames on a busy machine
    read up to 705 Hz for a 660 Hz tone."""
    window = AUDIO_SAMPLE_RATE // 10
    readings = []
    for start in range(0, len(samples) - window + 1, window):
        part = samples[start : start + window]
        crossings = sum(1 for a, b in itertools.pairwise(part) if (a < 0) != (b < 0))
        readings.append(crossings / 2 / (window / AUDIO_SAMPLE_RATE))
    return statistics.median(readings)


async def watch(track: MediaStreamTrack, frames: int = 30) -> SeenVideo:
    """Decodes `frames` video frames and describes the last one."""
    for _ in range(frames):
        frame: av.VideoFrame = await track.recv()
    luma = frame.planes[0]
    middle = frame.height // 2 * luma.line_size
    row = bytes(luma)[middle : middle + frame.width]
    return SeenVideo(frames, frame.width, frame.height, max(row) - min(row))


async def colour_seen(track: MediaStreamTrack, wanted: tuple[int, int, int]) -> tuple[int, ...]:
    """Decodes frames until one is, on average, the colour `wanted` (each of red, green
    and blue within 25: video is coded in YUV, with losses); fails after 90 frames
    with the last colour seen."""
    seen: tuple[int, ...] = ()
    for _ in range(90):
        frame: av.VideoFrame = await track.recv()
        seen = average_colour(frame)
        if all(abs(a - b) <= 25 for a, b in zip(seen, wanted, strict=True)):
            return seen
    raise AssertionError(f"frames of {seen}, never {wanted}")


def average_colour(frame: av.VideoFrame) -> tuple[int, int, int]:
    """Red, green and blue over the whole picture (taken from a 32x18 copy of it)."""
    small = frame.reformat(width=32, height=18, format="rgb24")
    plane = small.planes[0]
    rows = bytes(plane)
    pixels = b"".join(
        rows[row * plane.line_size : row * plane.line_size + small.width * 3]
        for row in range(small.height)
    )
    count = small.width * small.height
    red, green, blue = (sum(pixels[channel::3]) // count for channel in range(3))
    return red, green, blue


async def frames_received(call: Call, kind: str, at_least: int) -> int:
    """Waits until `call` has decoded `at_least` frames of `kind` from its current
    peer connection (a new one counts from 0); how many it has."""
    async with asyncio.timeout(EVENT_TIMEOUT):
        while True:
            stats = call.received.get(kind)
            if stats is not None and stats.frames >= at_least:
                return stats.frames
            await asyncio.sleep(0.05)
    raise AssertionError("unreachable")
