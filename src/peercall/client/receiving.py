"""What the Python client does with received media: counts it, and records it."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRecorder
from aiortc.mediastreams import MediaStreamError

from peercall.client.media import MediaError

logger = logging.getLogger(__name__)


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

    def add_track(self, peer_id: str, track: MediaStreamTrack) -> bool:
        """Adds a track of `peer_id` (the first peer to send one is the one recorded)."""
        if self.started or self.peer_id not in (None, peer_id):
            return False
        self.peer_id = peer_id
        self._recorder.addTrack(track)
        return True

    async def start(self) -> None:
        if not self.started and self.peer_id is not None:
            self.started = True
            await self._recorder.start()

    async def stop(self) -> None:
        """Finishes the file; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(av.FFmpegError, OSError):
            await self._recorder.stop()
