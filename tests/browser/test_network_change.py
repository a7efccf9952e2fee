"""A network change under a running call: the media path is lost, the page restarts
ICE (and resumes its signaling connection), and the call recovers by itself.

One browser runs in a network namespace (a second "device" joined to this machine
by a veth pair) whose address the test changes, as a phone's changes when it goes
from Wi-Fi to mobile data. The old path is gone for good: frames after the change
can only come over a path found by the ICE restart."""

import contextlib
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.browser.conftest import CHROMIUM_ARGS
from tests.browser.media import frames_in_one_of
from tests.browser.test_call import assert_receives_video, join_call, start_call, status
from tests.netns import NetworkNamespace, can_make_namespaces
from tests.servers import ServerProcess

pytestmark = pytest.mark.skipif(
    not can_make_namespaces(), reason="network namespaces need root (ip netns)"
)

# Records every text the status region shows, to see the call pass through
# "Reconnecting" (test instrumentation, not part of the page).
RECORD_STATES = """
window.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("status");
  const seen = (window.__seenStates = []);
  new MutationObserver(() => seen.push(status.textContent)).observe(status, {
    childList: true, characterData: true, subtree: true,
  });
});
"""


@pytest.fixture
def device(tmp_path):
    namespace = NetworkNamespace().create()
    yield namespace
    namespace.delete()


@contextlib.contextmanager
def call_across(tmp_path, device, playwright, new_page) -> Iterator[tuple[Page, Page]]:
    """A call between a "phone" in `device`'s namespace (its browser launched there)
    and a "laptop" on this machine, connected, both recording the states they show."""
    # HTTPS: a page from 10.x.x.x over plain HTTP would get no camera.
    server = ServerProcess(tmp_path / "data", host=device.host_address, https=True).start()
    moving = playwright.chromium.launch(
        executable_path=str(device.launcher(tmp_path)), args=CHROMIUM_ARGS
    )
    try:
        context = moving.new_context(
            viewport={"width": 1280, "height": 800}, ignore_https_errors=True
        )
        context.grant_permissions(["camera", "microphone"])
        phone = context.new_page()
        phone.add_init_script(RECORD_STATES)
        laptop = new_page(self_signed_ok=True)
        laptop.add_init_script(RECORD_STATES)

        # The new namespace's link coming up is itself a "network change" to
        # Chromium, which may abort the first page load: wait until it settles.
        for _ in range(20):
            try:
                phone.goto(server.url)
                break
            except PlaywrightError as error:
                if "ERR_NETWORK_CHANGED" not in str(error):
                    raise
                phone.wait_for_timeout(250)
        link = start_call(phone, server)
        join_call(laptop, link)
        for page in (phone, laptop):
            expect(status(page)).to_have_text("Connected", timeout=30_000)
        assert_receives_video(laptop)
        yield phone, laptop
        context.close()
    finally:
        moving.close()
        server.stop()


def test_after_a_network_change_the_call_restarts_ice_and_recovers(
    tmp_path, device, playwright, new_page
):
    with call_across(tmp_path, device, playwright, new_page) as (phone, laptop):
        device.change_address()
        for page in (phone, laptop):
            page.wait_for_function(
                "() => window.__seenStates.includes('Reconnecting')", timeout=30_000, polling=200
            )
        for page in (phone, laptop):
            expect(status(page)).to_have_text("Connected", timeout=60_000)
        assert_receives_video(laptop, within_seconds=10)  # over the new path
        assert_receives_video(phone, within_seconds=10)
        # Signaling came back too: a hang-up reaches the other side.
        laptop.get_by_role("button", name="Hang up").click()
        expect(status(phone)).to_contain_text("left", timeout=20_000)


@pytest.mark.skipif(shutil.which("nft") is None, reason="losing packets needs nftables (nft)")
def test_a_lossy_network_shows_a_poor_connection_on_both_sides_until_it_recovers(
    tmp_path, device, playwright, new_page
):
    with call_across(tmp_path, device, playwright, new_page) as (phone, laptop):
        marks = [
            page.locator("figure.tile").get_by_text("Poor connection") for page in (phone, laptop)
        ]
        for mark in marks:
            expect(mark).to_be_hidden()
        # A quarter of what reaches the phone is lost: the phone sees it in what it
        # receives, the laptop in what the phone's receiver reports say of its packets.
        device.lose_incoming_udp(percent=25)
        for mark in marks:
            expect(mark).to_be_visible(timeout=15_000)
        expect(status(phone)).to_have_text("Connected")  # poor, not lost
        # Less coming in would help the phone: it is offered to stop the video. The
        # laptop's own downlink is fine, and stopping its incoming video would not help.
        hint = "stop incoming video to keep the sound clear"
        expect(phone.get_by_text(hint)).to_be_visible()
        expect(laptop.get_by_text(hint)).to_be_hidden()
        phone.get_by_role("button", name="Stop incoming video").click()
        expect(phone.get_by_text(hint)).to_be_hidden()

        device.stop_losing()
        for mark in marks:
            expect(mark).to_be_hidden(timeout=20_000)


def test_in_a_group_the_tile_of_someone_whose_network_changed_says_reconnecting(
    tmp_path, device, playwright, new_page
):
    """The call stays "Connected" for the two whose network did not change (they
    still have each other): the tile of the third is where it shows."""
    with call_across(tmp_path, device, playwright, new_page) as (phone, laptop):
        third = new_page(self_signed_ok=True)
        join_call(third, phone.get_by_role("textbox", name="Call link").input_value())
        expect(status(third)).to_have_text("Connected", timeout=30_000)
        tiles = laptop.locator("figure.tile")
        expect(laptop.locator("figure.tile[data-active=true]")).to_have_count(2, timeout=30_000)
        phone_mark = tiles.first.get_by_text("Reconnecting…")
        third_mark = tiles.last.get_by_text("Reconnecting…")

        device.change_address()
        expect(phone_mark).to_be_visible(timeout=30_000)
        expect(status(laptop)).to_have_text("Connected")
        expect(third_mark).to_be_hidden()
        expect(phone_mark).to_be_hidden(timeout=60_000)  # back over the new path
        laptop.bring_to_front()
        frames = frames_in_one_of(tiles.first.locator("video"), windows=5)
        assert frames["count"] > 10, frames
