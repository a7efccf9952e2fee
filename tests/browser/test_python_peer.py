"""A browser and the Python client (aiortc) in one call, whichever of them starts it."""

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from peercall.client import MediaSource, join
from peercall.client.media import ToneAudio
from tests.browser.media import HEARD, loudest_audio, shows_colour, sound_heard
from tests.browser.test_call import assert_receives_video, chat, join_call, start_call, status
from tests.browser.test_group_call import video_received
from tests.browser.test_in_call import SILENCE, ever_marked_speaking
from tests.browser.test_renegotiation import ACTIVE, RECORD_PEER_CONNECTIONS
from tests.client.test_python_client import InBunches
from tests.clients import PythonPeer, run_peercall
from tests.servers import ServerProcess

# Looks like markup on purpose: it must be shown as text, never parsed.
BROWSER_TEXT = "<b>hello</b> from the browser"
PYTHON_TEXT = "hello from <i>Python</i>"


def assert_python_received_video(peer: PythonPeer) -> None:
    match = peer.wait_for_line(r"^Received (\d+) video frames \((\d+)x(\d+)\)")
    frames, width, height = (int(group) for group in match.groups())
    assert frames > 30, peer.stdout
    assert width > 0, peer.stdout
    assert height > 0, peer.stdout


def test_python_joins_a_call_the_browser_started(server: ServerProcess, new_page, python_peers):
    page = new_page()
    link = start_call(page, server)
    python = python_peers(link, "--test-pattern", "--say", PYTHON_TEXT, "--duration", "6")
    python.wait_for_line("^Connected$")
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)

    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text(PYTHON_TEXT)  # literally, tags and all
    expect(log.locator("i")).to_have_count(0)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    chat(page, BROWSER_TEXT)
    python.wait_for_line("^Message: " + re.escape(BROWSER_TEXT) + "$")

    assert python.wait() == 0, python.stderr
    assert_python_received_video(python)
    expect(status(page)).to_contain_text("left")


def test_browser_joins_a_call_python_started(server: ServerProcess, new_page, python_peers):
    created = run_peercall("new", "--server", server.url)
    assert created.returncode == 0, created.stderr
    link = created.stdout.strip()
    python = python_peers(link, "--test-pattern", "--say", PYTHON_TEXT, "--duration", "6")
    python.wait_for_line("^Waiting for someone to join$")

    page = new_page(phone=True)
    join_call(page, link)
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text(PYTHON_TEXT)
    chat(page, BROWSER_TEXT)
    python.wait_for_line("^Message: " + re.escape(BROWSER_TEXT) + "$")

    assert python.wait() == 0, python.stderr
    assert_python_received_video(python)
    assert "Traceback" not in python.stderr


def test_a_browser_without_camera_permission_watches_a_python_peer(
    server: ServerProcess, new_page, python_peers
):
    # Without media permission Chromium hides its addresses behind mDNS names
    # (xxxx.local) and must still reach the Python side.
    created = run_peercall("new", "--server", server.url)
    link = created.stdout.strip()
    python = python_peers(link, "--test-pattern")
    python.wait_for_line("^Waiting for someone to join$")
    page = new_page(camera_denied=True)
    join_call(page, link)
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)
    python.wait_for_line("^Connected$")


def test_files_go_between_the_browser_and_python(
    server: ServerProcess, new_page, python_peers, tmp_path
):
    page = new_page()
    link = start_call(page, server)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    from_python = tmp_path / "from python.bin"
    from_python.write_bytes(os.urandom(1_500_000))
    python = python_peers(
        link, "--send-file", str(from_python), "--save-files", str(downloads), "--duration", "60"
    )

    # Python's file, sent once connected, arrives on the page whole.
    download_link = page.get_by_role("link", name="Download from python.bin")
    expect(download_link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        download_link.click()
    assert Path(download.value.path()).read_bytes() == from_python.read_bytes()
    python.wait_for_line(r"^Sent file from python\.bin \(1500000 bytes\)$")

    # The page's file reaches Python, which saves it under the name it was given, made
    # safe for any file system.
    from_page = os.urandom(700_000)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Send file").click()
    chooser.value.set_files(
        {"name": "notes <1>.txt", "mimeType": "text/plain", "buffer": from_page}
    )
    saved = python.wait_for_line(r"^File: notes <1>\.txt \(700000 bytes\), saved to (.+)$")
    assert Path(saved.group(1)) == downloads / "notes _1_.txt"
    assert Path(saved.group(1)).read_bytes() == from_page

    page.get_by_role("button", name="Hang up").click()
    assert python.wait() == 0, python.stderr
    assert "Traceback" not in python.stderr


def test_the_page_and_python_tell_each_other_what_they_send(
    server: ServerProcess, new_page, python_peers
):
    """A receive-only Python peer sends no sound and no picture: the page says so
    rather than show a black tile, and Python hears of the page's mute button."""
    page = new_page()
    link = start_call(page, server)
    python = python_peers(link)  # no media: receive only
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    expect(page.get_by_text("Their camera is off")).to_be_visible()
    expect(page.get_by_text("Their microphone is muted")).to_be_visible()
    python.wait_for_line("^Their microphone is on and their camera is on$")
    page.get_by_role("button", name="Mute").click()
    python.wait_for_line("^Their microphone is muted and their camera is on$")
    page.get_by_role("button", name="Share screen").click()
    python.wait_for_line("^Their microphone is muted and they share their screen$")
    page.get_by_role("button", name="Stop sharing").click()
    # The camera again: a line after the one about the screen.
    python.wait_for_line(
        "share their screen\n(?:.*\n)*Their microphone is muted and their camera is on$"
    )


def test_a_python_peer_speaking_is_outlined_and_joins_muted_or_camera_off_on_request(
    server: ServerProcess, new_page, python_peers
):
    """The page reads who speaks from the audio level in RTP (RFC 6464), which aiortc
    sends too; `--muted` and `--camera-off` send silence and black, and say so."""
    page = new_page()
    link = start_call(page, server)
    python = python_peers(link, "--test-pattern", "--name", "Tone")  # a 440 Hz tone
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    tile = page.locator("figure.tile")
    assert ever_marked_speaking(tile, 4000)
    python.stop()  # Ctrl-C: it hangs up
    expect(status(page)).to_contain_text("left", timeout=20_000)

    quiet = python_peers(link, "--test-pattern", "--muted", "--camera-off")
    quiet.wait_for_line("^Connected$")
    expect(page.get_by_text("Their microphone is muted")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Their camera is off")).to_be_visible()
    expect(tile.locator(".avatar")).to_be_visible()
    assert not ever_marked_speaking(tile, 3000)
    assert loudest_audio(page.get_by_label("Remote video")) < SILENCE


def test_a_hand_raised_on_the_page_is_told_to_a_python_peer(
    server: ServerProcess, new_page, python_peers
):
    ann, ben = new_page(), new_page()
    link = start_call(ann, server)
    join_call(ben, link)
    python = python_peers(link, "--test-pattern")
    python.wait_for_line("^Connected$")
    expect(status(ann)).to_have_text("Connected", timeout=20_000)
    # Both pages' channels are open (what they send is said first): each said its
    # hand is down, which is no news.
    python.wait_for_line(r"(?s)(^Their microphone is on and their camera is on$.*){2}")
    assert "hand" not in python.stdout
    ann.get_by_role("button", name="Raise hand").click()  # two others: it is there
    python.wait_for_line("^Someone raised their hand$")
    ann.get_by_role("button", name="Lower hand").click()
    python.wait_for_line("^Someone lowered their hand$")
    assert python.stdout.count("their hand") == 2, python.stdout


def test_a_python_peer_stops_sending_video_to_a_page_that_stops_incoming_video(
    server: ServerProcess, new_page, python_peers
):
    page = new_page()
    page.add_init_script(RECORD_PEER_CONNECTIONS)
    link = start_call(page, server)
    python = python_peers(link, "--test-pattern")
    python.wait_for_line("^Connected$")
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)

    page.get_by_role("button", name="Stop incoming video").click()
    expect(page.get_by_text("Incoming video stopped")).to_be_visible()
    page.wait_for_timeout(1000)  # what was on its way
    assert video_received(page) == [0]
    assert sound_heard(page.get_by_label("Remote video")) > HEARD  # the tone goes on

    page.get_by_role("button", name="Show incoming video").click()
    assert_receives_video(page, within_seconds=10)


def test_a_screen_a_python_peer_shares_is_shown_whole_as_it_changes(
    server: ServerProcess, new_page, python_peers, x_screen
):
    x_screen.paint(200, 30, 30)
    page = new_page()
    link = start_call(page, server)
    python = python_peers(link, "--screen", x_screen.display)
    python.wait_for_line("^Connected$")
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    picture = page.get_by_label("Remote video")
    # A screen is shown whole, where a camera's picture is cropped to fill the tile.
    expect(picture).to_have_css("object-fit", "contain")
    page.bring_to_front()
    shows_colour(picture, (200, 30, 30))
    x_screen.paint(30, 30, 200)
    shows_colour(picture, (30, 30, 200))
    expect(page.get_by_text("Their microphone is muted")).to_be_visible()


SENT_BEFORE_SWITCHING_S = 10


def test_a_python_peer_switching_to_its_screen_and_back_mid_call_is_seen_at_once(
    server: ServerProcess, new_page, x_screen
):
    x_screen.paint(200, 30, 30)
    page = new_page()
    link = start_call(page, server)
    steps = [threading.Event() for _ in range(3)]  # to the screen, back, hang up

    async def python_side() -> None:
        # The screen's size: the same video encoder goes on (a new size opens another).
        size = (x_screen.width, x_screen.height)
        sources = [MediaSource.test_pattern(*size)]
        async with await join(link, media=sources[0]) as call:
            joined_at = time.monotonic()
            await asyncio.to_thread(steps[0].wait, 30)
            # Far enough into the call that a screen whose frame times started over
            # from 0 would be held back longer than the page is given to show it.
            await asyncio.sleep(SENT_BEFORE_SWITCHING_S - (time.monotonic() - joined_at))
            sources.append(MediaSource.from_screen(x_screen.display))
            call.switch_media(sources[-1])
            await asyncio.to_thread(steps[1].wait, 30)
            # A new pattern, its frames stamped from 0 again: after the screen's.
            sources.append(MediaSource.test_pattern(*size))
            call.switch_media(sources[-1])
            await asyncio.to_thread(steps[2].wait, 30)
        for source in sources:
            source.close()

    with running_in_a_thread(python_side, *steps):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
        picture = page.get_by_label("Remote video")
        page.bring_to_front()
        assert_receives_video(page)
        expect(picture).to_have_css("object-fit", "cover")  # a camera's picture
        steps[0].set()
        expect(picture).to_have_css("object-fit", "contain", timeout=SENT_BEFORE_SWITCHING_S * 1000)
        shows_colour(picture, (200, 30, 30), within_s=5)
        expect(page.get_by_text("Their microphone is muted")).to_be_hidden()  # sound goes on
        steps[1].set()
        expect(picture).to_have_css("object-fit", "cover")
        assert_receives_video(page, within_seconds=4)  # the pattern moves again


@contextmanager
def running_in_a_thread(
    python_side: Callable[[], Coroutine[Any, Any, None]], *stops: threading.Event
) -> Iterator[None]:
    """Runs a Python peer (`python_side`, on an event loop of its own) in a thread
    while the test drives the page. On the way out `stops` are set (the peer waits
    for them to go on, and hangs up after the last), the thread is waited for, and
    what failed in it fails the test rather than being lost with the thread."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(python_side())
        except BaseException as failure:
            failures.append(failure)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        for stop in stops:
            stop.set()
        thread.join(30)
        if failures:
            raise failures[0]


# The sound the page received from the other person over a window (inbound-rtp): its
# packets, and the share of the samples it played that the browser had to make up
# (concealment) for sound that had not come.
SOUND_RECEIVED = f"""
async (windowMs) => {{
  const counted = async () => {{
    const found = {{ packets: 0, samples: 0, concealed: 0 }};
    (await {ACTIVE}.getStats()).forEach((s) => {{
      if (s.type === "inbound-rtp" && s.kind === "audio") {{
        found.packets += s.packetsReceived;
        found.samples += s.totalSamplesReceived;
        found.concealed += s.concealedSamples;
      }}
    }});
    return found;
  }};
  const before = await counted();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await counted();
  const samples = after.samples - before.samples;
  return {{
    packets: after.packets - before.packets,
    samples,
    concealed: (after.concealed - before.concealed) / Math.max(1, samples),
  }};
}}
"""


def test_a_python_peers_sound_that_comes_in_bunches_is_heard_whole_in_the_page(
    server: ServerProcess, new_page
):
    """Sound captured on a busy machine comes to the client in bunches; the page
    must get all of it, not one frame of each bunch (peercall.client.fanout)."""
    page = new_page()
    page.add_init_script(RECORD_PEER_CONNECTIONS)
    link = start_call(page, server)
    hang_up = threading.Event()

    async def python_side() -> None:
        media = MediaSource(audio=InBunches(ToneAudio(660)))
        async with await join(link, media=media):
            await asyncio.to_thread(hang_up.wait, 30)
        media.close()

    with running_in_a_thread(python_side, hang_up):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
        page.wait_for_timeout(1000)  # the page's jitter buffer settles to the bunches
        received = page.evaluate(SOUND_RECEIVED, 3000)
    # 50 packets a second are sent. One frame of each bunch gave the page 30 of 150,
    # and 80 % of what it played was made up; all of it gives 150, and none.
    assert received["packets"] >= 120, received
    assert received["concealed"] < 0.25, received
