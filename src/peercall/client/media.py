"""What the Python client sends: a file, a capture device, an X11 screen, or a
generated test pattern.

The generated sources need no file and no device, so a script (or a test) can take
part in a call anywhere, and what it sends is known: bars moving across the picture
and a steady 440 Hz tone.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from array import array
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

from peercall.client.alsa import use_system_alsa
from peercall.client.file_loop import FileLoop

AUDIO_SAMPLE_RATE = 48_000
AUDIO_FRAME_SAMPLES = 960  # 20 ms, what Opus sends per packet
BAR_LEVELS = (235, 210, 180, 150, 120, 90, 60, 30)  # luma of the eight bars
BAR_STEP_PIXELS = 4  # how far the bars move each frame
# A screen changes little from one moment to the next: 15 pictures a second keep the
# encoder's work down (a plain 1920x1080 screen, captured, encoded and decoded again
# by a viewer in the same process: about half a core here).
SCREEN_FRAMES_PER_SECOND = 15


class MediaError(Exception):
    """A file or device could not be opened."""


class TestPatternVideo(VideoStreamTrack):
    """Eight grey bars that move across the picture, 30 frames per second."""

    def __init__(self, width: int = 640, height: int = 480) -> None:
        super().__init__()
        self.width = width
        self.height = height
        bar_width = max(1, width // len(BAR_LEVELS))
        # Two periods side by side: each frame is a window into it, shifted a little.
        period = bytes(BAR_LEVELS[(x // bar_width) % len(BAR_LEVELS)] for x in range(width))
        self._double_row = period + period
        self._frame_index = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        shift = (self._frame_index * BAR_STEP_PIXELS) % self.width
        self._frame_index += 1
        luma, chroma_u, chroma_v = frame.planes
        row = self._double_row[shift : shift + self.width]
        luma.update(_plane_bytes(row, luma.line_size, self.height))
        for plane in (chroma_u, chroma_v):  # neutral chroma: grey bars
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        return frame


def _plane_bytes(row: bytes, line_size: int, height: int) -> bytes:
    return (row + bytes(line_size - len(row))) * height


class ToneAudio(MediaStreamTrack):
    """A steady sine tone, mono, 48 kHz, in 20 ms frames paced in real time."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, volume: float = 0.3) -> None:
        super().__init__()
        # One second of samples; with a whole number of cycles per second it loops seamlessly.
        amplitude = volume * 32767
        self._second = array(
            "h",
            (
                int(amplitude * math.sin(2 * math.pi * frequency * n / AUDIO_SAMPLE_RATE))
                for n in range(AUDIO_SAMPLE_RATE)
            ),
        ).tobytes()
        self._samples_sent = 0
        self._started_at: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._started_at is None:
            self._started_at = time.monotonic()
        else:
            due = self._started_at + self._samples_sent / AUDIO_SAMPLE_RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        offset = (self._samples_sent % AUDIO_SAMPLE_RATE) * 2
        chunk = self._second[offset : offset + AUDIO_FRAME_SAMPLES * 2]
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_FRAME_SAMPLES)
        frame.planes[0].update(chunk)
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = self._samples_sent
        frame.time_base = Fraction(1, AUDIO_SAMPLE_RATE)
        self._samples_sent += AUDIO_FRAME_SAMPLES
        return frame


class MediaSource:
    """The tracks to send in a call (either may be None), and what must be closed after.
    `screen`: the video is a shared screen, which the others show whole rather than
    cropped to their tile (as a page's shared screen)."""

    def __init__(
        self,
        audio: MediaStreamTrack | None = None,
        video: MediaStreamTrack | None = None,
        player: MediaPlayer | FileLoop | None = None,
        *,
        screen: bool = False,
    ) -> None:
        self.audio = audio
        self.video = video
        self.screen = screen
        self._player = player  # holds the file or device open while its tracks play

    @classmethod
    def test_pattern(cls, width: int = 640, height: int = 480) -> MediaSource:
        return cls(audio=ToneAudio(), video=TestPatternVideo(width, height))

    @classmethod
    def from_file(cls, path: str | Path, *, loop: bool = False) -> MediaSource:
        """Plays an audio/video file in real time (anything FFmpeg reads); `loop`: over
        and over, until closed."""
        if not Path(path).is_file():
            raise MediaError(f"No such file: {path}")
        if loop:
            return cls._from_player(lambda: FileLoop(lambda: MediaPlayer(str(path))), str(path))
        return cls._from_player(lambda: MediaPlayer(str(path)), str(path))

    @classmethod
    def from_device(
        cls, device: str, *, format: str = "v4l2", options: dict[str, str] | None = None
    ) -> MediaSource:
        """A capture device, e.g. `/dev/video0` with format `v4l2` on Linux."""
        return cls._from_player(
            lambda: MediaPlayer(device, format=format, options=options or {}), device
        )

    @classmethod
    def from_microphone(cls, device: str = "default") -> MediaSource:
        """Sound from an ALSA capture device (`arecord -L` lists them: "default",
        "plughw:CARD=Device", ...), sent as a page sends its microphone. To send it with
        a picture: `MediaSource(audio=microphone.audio, video=camera.video)`."""
        use_system_alsa()
        options = {"sample_rate": str(AUDIO_SAMPLE_RATE)}
        try:
            return cls._from_player(
                lambda: MediaPlayer(device, format="alsa", options=options), f"microphone {device}"
            )
        except MediaError as exc:
            raise MediaError(f"{exc} (arecord -L lists the microphones)") from None

    @classmethod
    def from_screen(
        cls, display: str | None = None, *, frames_per_second: int = SCREEN_FRAMES_PER_SECOND
    ) -> MediaSource:
        """The whole of an X11 screen (`display`, e.g. ":0"; by default $DISPLAY), shared
        as a page shares one: the others show it whole. Picture only."""
        chosen = display or os.environ.get("DISPLAY", "")
        if not chosen:
            raise MediaError("No screen to share: give a display (e.g. :0) or set DISPLAY")
        options = {"framerate": str(frames_per_second)}
        return cls._from_player(
            lambda: MediaPlayer(chosen, format="x11grab", options=options),
            f"screen {chosen}",
            screen=True,
        )

    @classmethod
    def _from_player(
        cls, open_player: Callable[[], MediaPlayer | FileLoop], what: str, *, screen: bool = False
    ) -> MediaSource:
        try:
            player = open_player()
        except (av.FFmpegError, OSError) as exc:
            raise MediaError(f"Cannot open {what}: {exc}") from None
        if player.audio is None and player.video is None:
            raise MediaError(f"{what} has neither audio nor video")
        return cls(audio=player.audio, video=player.video, player=player, screen=screen)

    def close(self) -> None:
        for track in (self.audio, self.video):
            if track is not None:
                track.stop()
