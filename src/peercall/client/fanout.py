"""One source read by many: the peer connections a call sends it to, and, of what is
received, the application, the statistics and the recording.

aiortc's MediaRelay does this, and gives a reader that is not buffered the newest
frame only: one that comes while the reader is busy replaces the one before it.
That is right for pictures (a late one is worth nothing once the next is there),
and wrong for sound: each frame left out is 20 ms cut out of it. Frames come in
bunches whenever the machine is busy (the capture thread posts several before the
event loop turns), and a Python peer on a loaded machine sent sound with holes
(seen: the times it sent skipped 20 to 640 ms, a few times a second). So
sound is buffered, up to a second: a reader a second behind (stuck, or not reading
at all) loses the oldest, instead of holding ever more of it.
"""

from __future__ import annotations

import asyncio

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay

# Frames of sound kept for a reader that is behind: a second of 20 ms frames.
SOUND_KEPT_FRAMES = 50


class NewestFrames(asyncio.Queue):  # type: ignore[type-arg]
    """A queue that never refuses a frame: when full, the oldest one makes room. The
    end of the source (None) comes last, so it is never the one dropped."""

    def put_nowait(self, item: object) -> None:
        if self.full():
            self.get_nowait()
        super().put_nowait(item)


class Fanout(MediaRelay):
    """MediaRelay, whose copies for readers that take frames as they come (`live`)
    keep sound whole. `subscribe` is MediaRelay's (the recording's copy keeps all)."""

    def live(self, source: MediaStreamTrack) -> MediaStreamTrack:
        """A reader's own copy of `source`, as it goes: of a picture track, the newest
        picture; of a sound track, every frame, for a reader up to a second behind."""
        if source.kind != "audio":
            return self.subscribe(source, buffered=False)
        copy = self.subscribe(source, buffered=True)
        # MediaRelay fills a buffered copy's `_queue`, one that grows without end.
        if not isinstance(getattr(copy, "_queue", None), asyncio.Queue):
            raise RuntimeError("aiortc's MediaRelay changed: its copies have no _queue")
        copy._queue = NewestFrames(SOUND_KEPT_FRAMES)  # type: ignore[attr-defined]
        return copy
