"""A Python peer switching what it sends mid-call (`call.switch_media`), as another
Python peer records it."""

from __future__ import annotations

import asyncio
import itertools

import av
import pytest

from peercall.client import MediaSource, create_call, join
from tests.client.checks import listen, received_tracks
from tests.client.films import write_film

TIMEOUT = 20


async def test_a_recording_of_a_peer_switching_source_runs_on_without_a_gap(server, tmp_path):
    link = await create_call(server.url)
    before, after = MediaSource.test_pattern(), MediaSource.test_pattern()
    recording = tmp_path / "call.mp4"
    sender = await join(link, media=before)
    recorder = await join(link, record_to=recording)
    try:
        async with asyncio.timeout(TIMEOUT):
            await sender.wait_connected()
            await recorder.wait_connected()
        # Far enough into the call for the new source's own times, which start over
        # from 0, to be well behind the ones sent.
        await asyncio.sleep(3)
        sender.switch_media(after)
        await asyncio.sleep(3)
    finally:
        await recorder.hang_up()
        await sender.hang_up()
        for source in (before, after):
            source.close()

    with av.open(str(recording)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) < 1, max(gaps)  # no jump at the switch, forwards or back
    assert 4 < times[-1] - times[0] < 8, times[-1] - times[0]  # the 6 s it lasted
    assert len(times) > 100  # most of 6 s at 30 frames a second


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
