"""A Python client sharing an X11 screen (a real Xvfb, painted by the test), from the
start or switched to mid-call: the others see what is on it as it changes, and are
told it is a screen, which they show whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from peercall.client import (
    CallEvent,
    MediaSource,
    PeerMediaChanged,
    TrackReceived,
    create_call,
    join,
)
from tests.client.checks import EVENT_TIMEOUT, colour_seen, next_event, watch
from tests.clients import PythonPeer, run_peercall

RED, BLUE = (200, 30, 30), (30, 30, 200)


async def picture_and_what_it_is(
    events: AsyncIterator[CallEvent],
) -> tuple[TrackReceived, PeerMediaChanged]:
    """The video track received (it comes with the answer), and what the sender says
    it sends (once the data channel is open), in whichever order they come."""
    picture: TrackReceived | None = None
    told: PeerMediaChanged | None = None
    async with asyncio.timeout(EVENT_TIMEOUT):
        async for event in events:
            if isinstance(event, TrackReceived) and event.kind == "video":
                picture = event
            elif isinstance(event, PeerMediaChanged):
                told = event
            if picture and told:
                return picture, told
    raise AssertionError(f"the call ended with {picture} and {told}")


async def test_a_shared_screen_is_seen_as_it_changes_and_said_to_be_a_screen(server, x_screen):
    x_screen.paint(*RED)
    link = await create_call(server.url)
    screen = MediaSource.from_screen(x_screen.display)
    sharer = await join(link, media=screen)
    viewer = await join(link)  # receive only
    try:
        events = viewer.events()
        picture, told = await picture_and_what_it_is(events)
        assert (told.audio, told.video, told.screen) == (False, True, True)
        await colour_seen(picture.track, RED)
        x_screen.paint(*BLUE)  # live, not a picture taken once
        await colour_seen(picture.track, BLUE)

        sharer.set_video_off(True)  # a screen turned off is no screen shown
        told = await next_event(events, PeerMediaChanged)
        assert (told.video, told.screen) == (False, False)
    finally:
        for call in (viewer, sharer):
            await call.hang_up()
        screen.close()


async def test_join_screen_shares_the_display_of_the_environment(server, x_screen, tmp_path):
    x_screen.paint(*RED)
    link = await create_call(server.url)
    viewer = await join(link)
    sharer = PythonPeer(
        link, "--screen", "--duration", "20", log_dir=tmp_path, env={"DISPLAY": x_screen.display}
    )
    try:
        picture, told = await picture_and_what_it_is(viewer.events())
        assert told.screen, told
        await colour_seen(picture.track, RED)
    finally:
        await viewer.hang_up()
        sharer.stop()
    assert "Traceback" not in sharer.stderr


async def test_join_screen_without_a_screen_says_so(server):
    link = await create_call(server.url)
    no_display = await asyncio.to_thread(
        run_peercall, "join", link, "--screen", env={"DISPLAY": ""}
    )
    assert no_display.returncode == 2
    assert "No screen to share: give a display (e.g. :0) or set DISPLAY" in no_display.stderr
    nothing_there = await asyncio.to_thread(run_peercall, "join", link, "--screen", ":4242")
    assert nothing_there.returncode == 2
    assert "Cannot open screen :4242" in nothing_there.stderr


async def test_a_call_switches_to_its_screen_and_back_muted_as_it_was(server, x_screen):
    x_screen.paint(*RED)
    link = await create_call(server.url)
    pattern = MediaSource.test_pattern()
    sharer = await join(link, media=pattern)
    viewer = await join(link)  # receive only
    screen = MediaSource.from_screen(x_screen.display)
    try:
        events = viewer.events()
        picture, told = await picture_and_what_it_is(events)
        assert (told.audio, told.video, told.screen) == (True, True, False)
        sharer.set_muted(True)
        assert (await next_event(events, PeerMediaChanged)).audio is False

        sharer.switch_media(screen)  # the picture only: the sound (muted) goes on
        told = await next_event(events, PeerMediaChanged)
        assert (told.audio, told.video, told.screen) == (False, True, True)
        await colour_seen(picture.track, RED)

        sharer.switch_media(MediaSource(video=pattern.video))
        told = await next_event(events, PeerMediaChanged)
        assert (told.audio, told.video, told.screen) == (False, True, False)
        assert (await watch(picture.track)).luma_spread > 100  # the bars again

        with pytest.raises(ValueError, match="This call sends no video"):
            viewer.switch_media(screen)  # it joined sending nothing
    finally:
        for call in (viewer, sharer):
            await call.hang_up()
        for source in (screen, pattern):
            source.close()
