"""A Python peer switching what it sends mid-call (`call.switch_media`), as another
Python peer records it."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import av
import pytest

from peercall.client import MediaSource, create_call, join
from tests.client.checks import frames_received, listen, received_tracks
from tests.client.films import write_film
from tests.client.test_screen_share import RED

TIMEOUT = 20


async def record_a_switch(
    server, first: MediaSource, then: MediaSource, path: Path, *, switch_after_s: float
) -> list[av.VideoFrame]:
    """A Python peer sends `first`, then `then` once another has received
    `switch_after_s` seconds of `first` (30 frames a second), as that other one records
    it to `path`; `then` is received for 2 s (40 frames, a screen's 15 a second
    included) before it hangs up. The recording's pictures; both sources are closed."""
    link = await create_call(server.url)
    sender = await join(link, media=first)
    recorder = await join(link, record_to=path)
    try:
        before = await frames_received(recorder, "video", int(30 * switch_after_s))
        sender.switch_media(then)
        await frames_received(recorder, "video", before + 40)
    finally:
        received = {kind: stats.frames for kind, stats in recorder.received.items()}
        await recorder.hang_up()
        await sender.hang_up()
        for source in (first, then):
            source.close()
    with av.open(str(path)) as container:
        assert container.streams.video, f"no video recorded; frames received: {received}"
        return list(container.decode(video=0))


async def test_a_recording_of_a_peer_switching_source_runs_on_without_a_gap(server, tmp_path):
    # Far enough into the call for the new source's own times, which start over from
    # 0, to be well behind the ones sent.
    pictures = await record_a_switch(
        server,
        MediaSource.test_pattern(),
        MediaSource.test_pattern(),
        tmp_path / "call.mp4",
        switch_after_s=3,
    )
    times = [picture.time for picture in pictures]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < 1, max(gaps)  # no jump at the switch, forwards or back
    # 3 s of the first, then 40 frames of the second: 4.3 s at 30 frames a second.
    assert 3.5 < times[-1] - times[0] < 8, times[-1] - times[0]
    assert len(times) > 100


async def test_a_peer_switching_from_the_tone_to_a_films_stereo_sound_is_heard(server, tmp_path):
    film = MediaSource.from_file(write_film(tmp_path / "film.mp4", 3, tone_hz=660), loop=True)
    tone = MediaSource.test_pattern()  # mono 440 Hz: the film's sound is stereo
    link = await create_call(server.url)
    sender = await join(link, media=tone)
    listener = await join(link)
    try:
        events = listener.events()
        async with asyncio.timeout(TIMEOUT):
            sound = (await received_tracks(events))["audio"]
            assert (await listen(sound)).frequency == pytest.approx(440, rel=0.05)
            sender.switch_media(film)
            await listen(sound, 0.5)  # what was on its way
            heard = await listen(sound)
        assert heard.frequency == pytest.approx(660, rel=0.05)
        assert heard.rms > 0.05
    finally:
        await listener.hang_up()
        await sender.hang_up()
        for source in (tone, film):
            source.close()


async def test_a_wider_screen_after_the_camera_is_recorded_whole_in_its_proportions(
    server, x_screen, tmp_path
):
    x_screen.paint(*RED)  # 640x360, 16:9, after a 640x480 picture (4:3)
    pictures = await record_a_switch(
        server,
        MediaSource.test_pattern(),
        MediaSource.from_screen(x_screen.display),
        tmp_path / "call.mp4",
        switch_after_s=1,
    )
    last = pictures[-1].to_rgb()
    assert (last.width, last.height) == (640, 480)  # the file's size, from the first
    rows = bytes(last.planes[0])
    line = last.planes[0].line_size

    def row_colour(y: int) -> tuple[int, int, int]:
        at = y * line + last.width // 4 * 3  # left of the middle: X's pointer is there
        return tuple(rows[at : at + 3])

    # 640x360 fits whole, in the middle: 60 rows of black above and below it.
    for y in (10, 469):
        assert max(row_colour(y)) < 40, (y, row_colour(y))
    assert all(abs(a - b) <= 40 for a, b in zip(row_colour(240), RED, strict=True))
