"""What the Python client does with received media: counts it, and records it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamError

from peercall.client.media import MediaError
from peercall.client.sending import SwitchableTrack

logger = logging.getLogger(__name__)

RECORDING_FRAME_RATE = 30  # the video stream aiortc's MediaRecorder opens
FIRST_PICTURE_WAIT_SECONDS = 10.0  # before a recording starts with sound only


@dataclass
class ReceivedTrackStats:
    """Frames decoded from one received track so far."""

    kind: str
    frames: int = 0
    width: int = 0  # of the last video frame
    height: int = 0


async def count_frames(track: MediaStreamTrack, stats: ReceivedTrackStats) -> None:
    """Reads `track` until it ends. Keeps decoded frames from piling up unread, and
    tells the caller (and the command line) that media really arrives."""
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        stats.frames += 1
        if isinstance(frame, av.VideoFrame):
            stats.width, stats.height = frame.width, frame.height


class RecordableVideo(MediaStreamTrack):
    """`source`'s pictures as aiortc's recorder can write them.

    - On the recording's clock: its encoder counts time in 30ths of a second, and two
      pictures less than a 30th apart (a camera's or a screen's capture times jitter)
      got the same time; the file's muxer then refused a packet ("Invalid argument")
      and the recording stopped there, unreadable (seen in 3 runs of 8 of a screen
      shared at 15 frames a second). Each picture is stamped with its 30th, and one
      that falls in the 30th of the last one is left out.
    - The size of the first picture: the encoder opens at that size and stretched every
      other one into it (a wide screen after a 4:3 camera came out squashed). Any other
      shape is scaled to fit inside it, whole and in its proportions, between black
      bars.
    """

    kind = "video"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self._source = source
        self._size: tuple[int, int] | None = None
        self._fitting: tuple[tuple[int, int, str], av.filter.Graph] | None = None
        self._last_tick: int | None = None
        self._held: av.VideoFrame | None = None  # read ahead (`read_first`), not yet given

    async def read_first(self) -> None:
        """Reads the first picture ahead, for the next `recv`. The recorder writes the
        file's header at its first packet, audio or video; a video stream whose first
        picture had not come by then (a key frame takes longer than sound) had no size,
        and the file came out with no video at all (seen in 2 CI runs of 6)."""
        if self._held is None:
            self._held = await self.recv()

    async def recv(self) -> av.VideoFrame:
        if self._held is not None:
            held, self._held = self._held, None
            return held
        while True:
            frame: av.VideoFrame = await self._source.recv()
            if frame.pts is None or frame.time_base is None:
                return self._fitted(frame)
            # To the nearest 30th, as FFmpeg would round it.
            tick = math.floor(frame.pts * frame.time_base * RECORDING_FRAME_RATE + Fraction(1, 2))
            if self._last_tick is None or tick > self._last_tick:
                self._last_tick = tick
                fitted = self._fitted(frame)
                fitted.pts, fitted.time_base = tick, Fraction(1, RECORDING_FRAME_RATE)
                return fitted

    def _fitted(self, frame: av.VideoFrame) -> av.VideoFrame:
        if self._size is None:
            self._size = (frame.width, frame.height)
        if (frame.width, frame.height) == self._size:
            return frame
        shape = (frame.width, frame.height, frame.format.name)
        if self._fitting is None or self._fitting[0] != shape:
            self._fitting = (shape, _fitting_graph(frame, *self._size))
        graph = self._fitting[1]
        graph.push(frame)
        return graph.pull()

    def stop(self) -> None:
        super().stop()
        self._source.stop()


def _fitting_graph(template: av.VideoFrame, width: int, height: int) -> av.filter.Graph:
    """FFmpeg's filters: scaled down or up to fit `width` x `height`, then centred."""
    graph = av.filter.Graph()
    steps = [
        graph.add_buffer(template=template),
        graph.add("scale", f"{width}:{height}:force_original_aspect_ratio=decrease"),
        graph.add("pad", f"{width}:{height}:(ow-iw)/2:(oh-ih)/2:black"),
        graph.add("buffersink"),
    ]
    for step, next_step in itertools.pairwise(steps):
        step.link_to(next_step)
    graph.configure()
    return graph


class Recorder:
    """Records the tracks of one peer to a file; the format follows the file name
    (`.mp4`: H.264 + AAC, `.webm`/`.mkv`…, `.wav` for audio only)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._recorder = MediaRecorder(str(self.path))
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise MediaError(f"Cannot record to {self.path}: {exc}") from None
        self.peer_id: str | None = None
        self.started = False
        self._stopped = False
        self._inputs: dict[str, SwitchableTrack] = {}  # by kind
        self._video: RecordableVideo | None = None

    def add_track(self, peer_id: str, track: MediaStreamTrack) -> bool:
        """Adds a track of `peer_id` (the first peer to send one is the one recorded).
        The same peer's track of a kind recorded already is followed in place of the
        last one: aiortc cannot restart ICE, so after a network change the call
        connects to them again with a new peer connection, and the recording stopped
        there. It goes on instead, with its times: the gap lasts as long as it did."""
        if self.peer_id not in (None, peer_id):
            return False
        followed = self._inputs.get(track.kind)
        if followed is not None:
            followed.replace_source(track)
            return True
        if self.started:  # the file's streams are written: none can be added
            logger.warning("%s came after the recording started: not recorded", track.kind)
            return False
        self.peer_id = peer_id
        followed = SwitchableTrack(track, outlives_its_sources=True)
        self._inputs[track.kind] = followed
        if track.kind == "video":
            self._video = RecordableVideo(followed)
            self._recorder.addTrack(self._video)
        else:
            self._recorder.addTrack(followed)
        return True

    async def start(self) -> None:
        if not self.started and self.peer_id is not None:
            self.started = True
            if self._video is not None:
                # Sound alone, if no picture comes (a camera sending nothing).
                with contextlib.suppress(TimeoutError, MediaStreamError):
                    async with asyncio.timeout(FIRST_PICTURE_WAIT_SECONDS):
                        await self._video.read_first()
            await self._recorder.start()

    async def stop(self) -> None:
        """Finishes the file; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(av.FFmpegError, OSError):
            await self._recorder.stop()
        for followed in self._inputs.values():
            followed.stop()
