"""A file played over and over, for a bot or a demo that stays in a call.

aiortc's own `MediaPlayer(loop=True)` seeks back to the start, which fails on many
files (seen: an MP4 from PyAV ends after its first turn; aiortc issue #918) and,
where it works, starts the video's times over from 0, so every later turn plays as
fast as it decodes (its code; aiortc issue #869). Here each turn opens the file
anew: its player paces it in real time, and the times of its frames are moved on to
follow the last turn's.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError

Frame = av.AudioFrame | av.VideoFrame


class FileLoop:
    """The players of the turns, one at a time; `audio` and `video` play them in turn.
    `open_player` opens the file once per turn (the first one now: a file that cannot
    be opened fails here)."""

    def __init__(self, open_player: Callable[[], MediaPlayer]) -> None:
        self._open_player = open_player
        self._player = open_player()
        self._turn = 0
        self.audio = LoopedTrack(self, "audio") if self._player.audio else None
        self.video = LoopedTrack(self, "video") if self._player.video else None

    def track_for(self, kind: str, turn: int) -> MediaStreamTrack:
        """The `kind` track of turn `turn` (or of a later one, for a track that fell a
        whole turn behind), the file opened again for the first of the tracks to reach
        it: the other one finishes the last turn first. A player stops once each track
        it was read for has reached its end (aiortc's)."""
        if turn > self._turn:
            try:
                self._player = self._open_player()
            except (av.FFmpegError, OSError):  # gone since the last turn: the end
                raise MediaStreamError from None
            self._turn = turn
        track = getattr(self._player, kind)
        if track is None:  # the file changed between two turns
            raise MediaStreamError
        return track


class LoopedTrack(MediaStreamTrack):
    """One kind of the file, turn after turn, its times going on from turn to turn."""

    def __init__(self, file_loop: FileLoop, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._file_loop = file_loop
        self._turn = 0
        self._turn_starts_at = Fraction(0)  # seconds: where this turn's times begin
        self._next_time = Fraction(0)  # seconds: just after the last frame returned
        self._frames_this_turn = 0
        self._playing: MediaStreamTrack | None = None  # the turn's track being read

    async def recv(self) -> Frame:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            try:
                if self._playing is None:
                    self._playing = self._file_loop.track_for(self.kind, self._turn)
                frame = await self._playing.recv()
            except MediaStreamError:
                if self._frames_this_turn == 0:  # nothing to play: never turn again
                    self.stop()
                    raise
                self._playing = None
                self._turn += 1
                self._turn_starts_at = self._next_time
                self._frames_this_turn = 0
                continue
            self._frames_this_turn += 1
            return self._moved_on(frame)

    def _moved_on(self, frame: Frame) -> Frame:
        if frame.pts is None or frame.time_base is None:
            return frame
        at = self._turn_starts_at + frame.pts * frame.time_base
        frame.pts = round(at / frame.time_base)
        self._next_time = at + _duration(frame)
        return frame

    def stop(self) -> None:
        super().stop()
        if self._playing is not None:
            self._playing.stop()


def _duration(frame: Frame) -> Fraction:
    """How long `frame` lasts: an audio frame's samples; a video frame, a 30th of a
    second (a file's frame rate is rarely higher; the next turn just starts that
    much after its last picture)."""
    if isinstance(frame, av.AudioFrame) and frame.sample_rate:
        return Fraction(frame.samples, frame.sample_rate)
    return Fraction(1, 30)
