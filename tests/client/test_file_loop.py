"""A file played over and over (`MediaSource.from_file(loop=True)`, `--loop`)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from pathlib import Path

import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from peercall.client import MediaSource, join
from tests.client.checks import received_tracks, watch
from tests.client.films import write_film
from tests.client.test_command_line import new_call

FILM_SECONDS = 1


@pytest.fixture
def one_second_film(tmp_path: Path) -> Path:
    return write_film(tmp_path / "one-second.mp4", FILM_SECONDS, tone_hz=0)


async def play(track: MediaStreamTrack, until_seconds: float) -> list[tuple[float, float]]:
    """(seconds since the start, the frame's time) for each frame, until a frame's
    time reaches `until_seconds`."""
    started = time.monotonic()
    played: list[tuple[float, float]] = []
    while not played or played[-1][1] < until_seconds:
        frame = await track.recv()
        played.append((time.monotonic() - started, float(frame.pts * frame.time_base)))
    return played


def player_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name == "media-player"}


async def test_a_looped_file_plays_on_turn_after_turn_in_real_time(one_second_film):
    source = MediaSource.from_file(one_second_film, loop=True)
    turns = 3
    try:
        async with asyncio.timeout(20):
            video, audio = await asyncio.gather(
                play(source.video, turns * FILM_SECONDS), play(source.audio, turns * FILM_SECONDS)
            )
    finally:
        source.close()
    for played in (video, audio):
        times = [at for _, at in played]
        assert all(a < b for a, b in itertools.pairwise(times)), "times go on from turn to turn"
        # Paced as it plays, not as fast as it decodes: aiortc's player reads a
        # second ahead at most.
        assert all(at <= since_start + 1.2 for since_start, at in played)
    assert len(video) >= turns * 30 - 2  # every picture of each turn


async def test_closing_a_looped_file_stops_its_player(tmp_path):
    # Three seconds: the second turn's player still reads (a second ahead) when closed.
    film = write_film(tmp_path / "three-seconds.mp4", 3, tone_hz=0)
    already_there = player_threads()  # another test's, if any: not this one's to judge
    source = MediaSource.from_file(film, loop=True)
    await play(source.video, 3.5)
    assert player_threads() - already_there
    source.close()  # joins the thread of the turn being played
    assert player_threads() - already_there == set()


async def test_a_looped_file_removed_meanwhile_ends_after_its_turn(one_second_film):
    source = MediaSource.from_file(one_second_film, loop=True)
    await play(source.video, 0.1)
    one_second_film.unlink()
    with pytest.raises(MediaStreamError):
        async with asyncio.timeout(10):
            await play(source.video, 2 * FILM_SECONDS)
    assert source.video.readyState == "ended"
    source.close()


async def test_a_looped_file_is_sent_on_after_its_end(server, python_peers, one_second_film):
    link = new_call(server)
    async with await join(link) as watcher:
        events = watcher.events()
        python_peers(link, "--play", str(one_second_film), "--loop")
        async with asyncio.timeout(20):
            video = (await received_tracks(events))["video"]
            seen = await watch(video, frames=3 * 30)  # three turns
        assert (seen.width, seen.height) == (320, 240)
