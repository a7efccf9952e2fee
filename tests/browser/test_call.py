"""A whole 1:1 call in two real browsers (one laptop-sized, one phone-sized)."""

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PLAIN_HTTP_HOST
from tests.browser.media import HEARD, frames_in_one_of, presented_frames, sound_heard
from tests.conftest import ONE_TO_ONE
from tests.servers import ServerProcess

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def status(page: Page):
    return page.get_by_role("status")


def start_call(page: Page, server: ServerProcess) -> str:
    page.goto(server.url)
    page.get_by_role("button", name="New call").click()
    expect(status(page)).to_have_text("Waiting for someone to join")
    link = page.get_by_role("textbox", name="Call link").input_value()
    assert re.fullmatch(rf"{re.escape(server.url)}/c/[A-Za-z0-9_-]{{22}}", link)
    return link


def join_call(page: Page, link: str) -> None:
    page.goto(link)
    expect(status(page)).to_have_text("Ready to join")
    page.get_by_role("button", name="Join").click()


def chat(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def test_device_lists_show_the_fake_devices(server, new_page):
    page = new_page()
    page.goto(server.url)
    expect(status(page)).to_have_text(re.compile("start a call"))
    camera = page.get_by_role("combobox", name="Camera", exact=True)
    microphone = page.get_by_role("combobox", name="Microphone", exact=True)
    camera_labels = camera.locator("option").all_inner_texts()
    microphone_labels = microphone.locator("option").all_inner_texts()
    # Chromium's fake devices; real labels prove permission was granted and read.
    assert any("fake" in label.lower() for label in camera_labels), camera_labels
    assert any("fake" in label.lower() for label in microphone_labels), microphone_labels
    video = page.get_by_label("Your camera")
    assert presented_frames(video, more_than=5)["count"] > 5
    # Out of a call there is nothing to chat with, hang up or measure.
    for region in ("Chat", "Call statistics"):
        expect(page.get_by_role("region", name=region)).to_be_hidden()
    expect(page.get_by_role("button", name="Hang up")).to_be_hidden()


def assert_receives_video(page: Page, within_seconds: float = 0) -> None:
    """More than ten frames presented in a two-second window. `within_seconds`: after
    a network event the picture may take a moment to come back (a new key frame);
    keep measuring for that long before failing."""
    # Headless Chromium may stop painting a page the test has not looked at for a
    # while (frames are decoded but not presented): look at it, as a person would.
    page.bring_to_front()
    windows = max(1, int(within_seconds / 2))
    frames = frames_in_one_of(page.get_by_label("Remote video"), windows)
    assert frames["count"] > 10, frames
    assert frames["width"] > 0, frames
    assert frames["height"] > 0, frames


# A phone's share sheet, recorded (headless Chromium on Linux has none).
RECORD_SHARE_SHEET = """
(() => {
  window.__shared = [];
  navigator.canShare = (data) => typeof data?.url === "string";
  navigator.share = async (data) => { window.__shared.push(data); };
})();
"""


def test_a_phone_sends_the_call_link_through_its_share_sheet(server, new_page):
    laptop = new_page()
    start_call(laptop, server)
    # A browser that cannot send links (Chromium on a Linux computer) shows no button.
    expect(laptop.get_by_role("button", name="Copy link")).to_be_visible()
    expect(laptop.get_by_role("button", name="Send link")).to_be_hidden()

    phone = new_page(phone=True)
    phone.add_init_script(RECORD_SHARE_SHEET)
    link = start_call(phone, server)
    phone.get_by_role("button", name="Send link").click()
    phone.wait_for_function("() => window.__shared.length === 1")
    assert phone.evaluate("() => window.__shared[0]") == {"title": "Join my call", "url": link}
    # The link and both buttons fit a 360 px phone: nothing scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_two_people_see_and_hear_each_other_and_hang_up(server, new_page):
    laptop = new_page()
    phone = new_page(phone=True)
    link = start_call(laptop, server)
    laptop.get_by_role("button", name="Copy link").click()
    expect(laptop.get_by_role("button", name="Copied")).to_be_visible()
    assert laptop.evaluate("navigator.clipboard.readText()") == link
    join_call(phone, link)
    expect(status(laptop)).to_have_text("Connected", timeout=20_000)
    expect(status(phone)).to_have_text("Connected", timeout=20_000)

    for page in (laptop, phone):
        assert_receives_video(page)
        assert sound_heard(page.get_by_label("Remote video")) > HEARD

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    laptop.evaluate("window.scrollTo(0, 0)")
    for page, name in ((laptop, "call-laptop.png"), (phone, "call-phone.png")):
        # A page left in the background stops painting its videos (headless Chromium):
        # in front, both videos shown again, as a person looking at it sees them.
        page.bring_to_front()
        for video in ("Your camera", "Remote video"):
            assert presented_frames(page.get_by_label(video), 3)["count"] > 3
        page.screenshot(path=SCREENSHOTS / name)

    phone.get_by_role("button", name="Hang up").click()
    expect(status(phone)).to_have_text("You left the call")
    expect(status(laptop)).to_contain_text("left")
    expect(status(laptop)).to_contain_text("Waiting for someone to join")
    expect(laptop.get_by_role("button", name="Hang up")).to_be_visible()

    # The one who stayed waits in the same call; the one who left can come back.
    phone.get_by_role("button", name="Join").click()
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    expect(status(laptop)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(laptop)
    assert_receives_video(phone)


def test_closing_or_reloading_the_tab_hangs_up_at_once(server, new_page):
    """The server keeps a dropped member's place for a resume (30 s by default): a
    closed tab looked like a dropped network, and the other side saw "Reconnecting"
    for half a minute before being told."""
    host, guest = new_page(), new_page()
    link = start_call(host, server)
    join_call(guest, link)
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=20_000)

    guest.reload()
    expect(status(host)).to_contain_text("Everybody else left")  # within 5 s, not 30
    expect(host.get_by_role("log", name="Messages")).to_contain_text("left")
    # The reloaded page is invited again, and joins as anybody would.
    expect(guest.get_by_role("button", name="Join")).to_be_visible(timeout=20_000)
    guest.get_by_role("button", name="Join").click()
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=20_000)

    guest.close()
    expect(status(host)).to_contain_text("Everybody else left")


@ONE_TO_ONE
def test_a_third_person_is_told_the_call_is_full(server, new_page):
    first, second, third = new_page(), new_page(), new_page()
    link = start_call(first, server)
    join_call(second, link)
    expect(status(second)).to_have_text("Connected", timeout=20_000)
    third.goto(link)
    expect(status(third)).to_have_text("This call is full.")
    third.get_by_role("button", name="Join").click()
    expect(status(third)).to_have_text("This call is full.")
    expect(status(first)).to_have_text("Connected")


def test_a_link_to_no_call_says_so(server, new_page):
    page = new_page()
    page.goto(server.url + "/c/" + "A" * 22)
    expect(status(page)).to_contain_text("Call not found")
    expect(page.get_by_role("button", name="Join")).to_be_hidden()


def test_someone_whose_camera_is_denied_still_sees_and_hears_the_other(server, new_page):
    host = new_page()
    guest = new_page(camera_denied=True)
    link = start_call(host, server)
    guest.goto(link)
    expect(guest.get_by_role("alert")).to_contain_text("denied")
    for kind in ("Camera", "Microphone"):
        expect(guest.get_by_role("combobox", name=kind, exact=True)).to_have_text("Not allowed")
    expect(status(guest)).to_have_text("Ready to join")
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    expect(status(host)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(guest)
    assert sound_heard(guest.get_by_label("Remote video")) > HEARD


def join_with_one_refused(
    server: ServerProcess, new_page: Callable[..., Page], allowed: str, refused: str, notice: str
) -> tuple[Page, Page]:
    """A guest who allows only `allowed` ("camera", "microphone") is told `notice`,
    its list of the `refused` kind ("Camera", "Microphone") says why it is empty, and
    it joins the host's call. Returns (host, guest), connected."""
    host = new_page()
    guest = new_page(only_allowed=(allowed,))
    link = start_call(host, server)
    guest.goto(link)
    # Not "access was denied" for both: the one allowed is used.
    expect(guest.get_by_role("alert")).to_contain_text(notice)
    devices = guest.get_by_role("combobox", name=refused, exact=True)
    expect(devices).to_be_disabled()
    expect(devices).to_have_text("Not allowed")  # not "None found": there is one
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    expect(status(host)).to_have_text("Connected", timeout=20_000)
    return host, guest


def test_someone_who_blocks_only_the_microphone_is_seen_and_told_why(server, new_page):
    host, guest = join_with_one_refused(
        server, new_page, "camera", "Microphone", "Microphone access was denied"
    )
    expect(guest.get_by_role("combobox", name="Camera", exact=True)).to_be_enabled()
    assert presented_frames(guest.get_by_label("Your camera", exact=True), 3)["count"] > 3
    assert_receives_video(host)  # the guest is seen
    assert_receives_video(guest)
    expect(host.get_by_text("Their microphone is muted")).to_be_visible()
    # Nothing is heard, and the button says so; pressing it asks again, and says why not.
    guest.get_by_role("button", name="Unmute").click()
    expect(guest.get_by_role("alert")).to_contain_text(
        "Cannot open the microphone: access was denied"
    )
    expect(guest.get_by_role("button", name="Unmute")).to_be_visible()


def test_someone_who_blocks_only_the_camera_is_heard_then_seen_once_they_allow_it(server, new_page):
    host, guest = join_with_one_refused(
        server, new_page, "microphone", "Camera", "Camera access was denied"
    )
    expect(guest.locator(".local").get_by_text("Camera not allowed")).to_be_visible()
    assert sound_heard(host.get_by_label("Remote video")) > HEARD  # the guest is heard
    assert_receives_video(guest)
    expect(host.get_by_text("Their camera is off")).to_be_visible()
    # Allowed in the browser's site settings mid-call, then Camera on: seen.
    guest.context.grant_permissions(["camera", "microphone"])
    guest.get_by_role("button", name="Camera on").click()
    expect(guest.get_by_role("button", name="Camera off")).to_be_visible()
    expect(host.get_by_text("Their camera is off")).to_be_hidden()
    assert_receives_video(host)


# The camera held by another application (its call, on Windows or a phone): the
# browser can open it but not start it. Headless Chromium's fake camera is never busy.
CAMERA_IN_USE = """
const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = (constraints) =>
  constraints?.video
    ? Promise.reject(new DOMException("Could not start video source", "NotReadableError"))
    : open(constraints);
"""


def test_a_camera_in_use_by_another_app_leaves_the_microphone_to_the_call(server, new_page):
    host, guest = new_page(), new_page()
    guest.add_init_script(CAMERA_IN_USE)
    link = start_call(host, server)
    guest.goto(link)
    expect(guest.get_by_role("alert")).to_contain_text(
        "Your camera is being used by another application: the other person will hear you"
    )
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    expect(status(host)).to_have_text("Connected", timeout=20_000)
    assert sound_heard(host.get_by_label("Remote video")) > HEARD  # the guest is heard
    assert_receives_video(guest)


# WebRTC turned off (Firefox's media.peerconnection.enabled, a privacy extension) or
# missing (an old in-app browser): no RTCPeerConnection at all.
NO_WEBRTC = "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;"


def test_a_browser_without_webrtc_is_told_so_and_keeps_the_link_to_open_elsewhere(server, new_page):
    host, guest = new_page(), new_page()
    guest.add_init_script(NO_WEBRTC)
    link = start_call(host, server)
    guest.goto(link)
    # Said at once, not "Ready to join" and then "Connecting" for ever.
    expect(status(guest)).to_contain_text("This browser cannot make calls")
    expect(guest.get_by_role("button", name="Join")).to_be_hidden()
    expect(guest.get_by_role("button", name="Copy link")).to_be_visible()
    guest.goto(server.url)
    expect(status(guest)).to_contain_text("This browser cannot make calls")
    expect(guest.get_by_role("button", name="New call")).to_be_hidden()


def test_a_page_on_plain_http_from_another_address_sees_hears_chats_and_sends_files(
    server, new_page
):
    # A phone on the LAN opening http://192.168.1.5:8000: no secure context, so no
    # camera, microphone or crypto.randomUUID (sending a file threw with it).
    host, guest = new_page(), new_page(phone=True)
    link = start_call(host, server)
    guest.goto(link.replace("127.0.0.1", PLAIN_HTTP_HOST))
    assert guest.evaluate("window.isSecureContext") is False
    expect(guest.get_by_role("alert")).to_contain_text("This page is not secure (no HTTPS)")
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(guest)
    assert sound_heard(guest.get_by_label("Remote video")) > HEARD

    expect(guest.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    chat(guest, "hello over plain http")
    expect(host.get_by_role("log", name="Messages")).to_contain_text("hello over plain http")
    with guest.expect_file_chooser() as chooser:
        guest.get_by_role("button", name="Send file").click()
    chooser.value.set_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"notes"})
    expect(host.get_by_role("link", name="Download notes.txt")).to_be_visible()
    expect(guest.get_by_role("log", name="Messages")).to_contain_text("Sent")


def test_someone_without_a_camera_is_heard_and_sees_the_other(server, new_page):
    host = new_page()
    guest = new_page(no_camera=True)
    link = start_call(host, server)
    guest.goto(link)
    expect(guest.get_by_role("alert")).to_contain_text("No camera was found")
    expect(guest.get_by_role("combobox", name="Camera", exact=True)).to_be_disabled()
    # Nothing is sent, and the button says so (not "Camera off").
    expect(guest.get_by_role("button", name="Camera on")).to_be_visible()
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    expect(status(host)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(guest)
    assert sound_heard(host.get_by_label("Remote video")) > HEARD  # audio-only reaches the host


def test_losing_the_server_is_shown_and_the_media_goes_on(server, new_page):
    first, second = new_page(), new_page()
    link = start_call(first, server)
    join_call(second, link)
    expect(status(first)).to_have_text("Connected", timeout=20_000)
    server.stop()
    expect(status(first)).to_have_text("Connection to the server lost. Reconnecting…")
    expect(status(second)).to_have_text("Connection to the server lost. Reconnecting…")
    assert_receives_video(first)  # peer to peer: the call itself does not need the server


def test_web_addresses_in_chat_are_links_that_keep_the_call_private(server, new_page):
    laptop, phone = new_page(), new_page()
    link = start_call(laptop, server)
    join_call(phone, link)
    expect(laptop.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    health = f"{server.url}/healthz"
    message = (
        f"status at {health}. Also (see https://en.wikipedia.org/wiki/Foo_(bar)), "
        'javascript:alert(1) http://[oops and <b>https://example.org/?q="x"</b>'
    )
    chat(laptop, message)

    for page in (phone, laptop):  # theirs, and our own line
        line = page.get_by_role("log", name="Messages").locator("li").last
        expect(line.locator(".text")).to_have_text(message)  # every character, as text
        links = line.locator("a")
        expect(links).to_have_count(3)
        hrefs = [links.nth(i).get_attribute("href") for i in range(3)]
        assert hrefs == [
            health,
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            "https://example.org/?q=",
        ]
        expect(line.locator("b")).to_have_count(0)
        for i in range(3):
            expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer")
            expect(links.nth(i)).to_have_attribute("target", "_blank")

    # Opened, the link knows nothing of the call: no opener, no Referer with its link.
    referers: list[str | None] = []
    phone.context.on("request", lambda request: referers.append(request.headers.get("referer")))
    with phone.context.expect_page() as opened:
        phone.get_by_role("link", name=health).click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == health
    assert tab.evaluate("() => window.opener") is None
    assert referers == [None]
    expect(status(phone)).to_have_text("Connected")  # and the call goes on


def test_a_message_out_of_sight_shows_over_the_call_and_leads_to_the_chat(server, new_page):
    laptop, phone = new_page(), new_page(phone=True)
    join_call(phone, start_call(laptop, server))
    for page in (laptop, phone):
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    phone_log = phone.get_by_role("log", name="Messages")
    expect(phone_log).not_to_be_in_viewport()  # below the picture, on a phone

    scrolled = phone.evaluate("() => window.scrollY")
    chat(laptop, "are you there?")
    toast = phone.locator("#chat-toast")
    expect(toast).to_have_text("Guest: are you there?")
    expect(toast).to_be_visible()
    # The message did not move the page away from the picture.
    expect(phone_log).to_contain_text("are you there?")
    assert phone.evaluate("() => window.scrollY") == scrolled
    expect(phone.get_by_label("Remote video")).to_be_in_viewport()
    toast.click()
    expect(toast).to_be_hidden()
    expect(phone_log).to_be_in_viewport()
    expect(phone.get_by_role("textbox", name="Message")).to_be_focused()
    # In sight, the log follows what comes in (it scrolls, the page does not).
    for n in range(20):
        chat(laptop, f"line {n}")
    expect(phone_log.locator("li").last).to_have_text(re.compile("line 19"))
    expect(phone_log.locator("li").last).to_be_in_viewport()
    expect(phone_log.locator("li").first).not_to_be_in_viewport()
    expect(toast).to_be_hidden()

    # Where the chat is in sight already, nothing covers the call.
    laptop_log = laptop.get_by_role("log", name="Messages")
    expect(laptop_log).to_be_in_viewport()
    chat(phone, "yes")
    expect(laptop_log).to_contain_text("yes")
    expect(laptop.locator("#chat-toast")).to_be_hidden()


def test_chat_goes_both_ways_and_is_shown_as_text(server, new_page):
    laptop, phone = new_page(), new_page(phone=True)
    link = start_call(laptop, server)
    join_call(phone, link)
    for page in (laptop, phone):
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)

    markup = '<img src=x onerror="document.title=1"><b>bold?</b>'
    laptop.get_by_role("textbox", name="Message").fill(markup)
    laptop.get_by_role("button", name="Send", exact=True).click()
    phone_log = phone.get_by_role("log", name="Messages")
    expect(phone_log).to_contain_text(markup)
    expect(phone_log.locator("img, b")).to_have_count(0)
    expect(laptop.get_by_role("textbox", name="Message")).to_have_value("")

    phone.get_by_role("textbox", name="Message").fill("got it")
    phone.get_by_role("button", name="Send", exact=True).click()
    expect(laptop.get_by_role("log", name="Messages")).to_contain_text("got it")
    expect(laptop.get_by_role("log", name="Messages")).to_contain_text(markup)  # our own, too

    phone.get_by_role("button", name="Hang up").click()
    expect(laptop.get_by_role("button", name="Send", exact=True)).to_be_disabled()
