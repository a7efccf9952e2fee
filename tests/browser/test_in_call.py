"""In-call controls, each proven by what the other side gets."""

import contextlib
import hashlib
import json
import os
import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from tests.browser.media import (
    HEARD,
    loudest_audio,
    presented_frames,
    sound_heard,
    video_track_label,
)
from tests.browser.test_call import assert_receives_video, chat, join_call, start_call, status

SILENCE = 0.001


def connected_pair(server, new_page) -> tuple[Page, Page, list[int]]:
    """Two people in a call, and a live count of the offers the first one sent."""
    first, other = new_page(), new_page()
    offers = count_offers_sent(first)
    link = start_call(first, server)
    join_call(other, link)
    for page in (first, other):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    return first, other, offers


def count_offers_sent(page: Page) -> list[int]:
    """A one-item list holding how many offers the page sends on its WebSockets from
    now on for its first peer connection (the open offer the other person takes);
    call before the page opens its socket. Offers of later peer connections (the next
    open offer, made once the call is up) are not counted."""
    count = [0]
    sessions: list[str] = []

    def on_frame(payload: str | bytes) -> None:
        message = json.loads(payload) if isinstance(payload, str) else {}
        if message.get("type") != "offer":
            return
        sessions.append(message["session"])
        if message["session"] == sessions[0]:
            count[0] += 1

    page.on("websocket", lambda socket: socket.on("framesent", on_frame))
    return count


def quietest_audio(video: Locator) -> float:
    """The quietest of three one-second windows of what `video` receives. A change
    (mute, a stopped share) may overtake the last audio packets still in the
    receiver's jitter buffer: silence must follow within a moment."""
    return min(loudest_audio(video, window_ms=1000) for _ in range(3))


def test_mute_silences_what_the_other_side_hears_and_shows_it(server, new_page):
    speaker, listener, _ = connected_pair(server, new_page)
    remote = listener.get_by_label("Remote video")
    assert sound_heard(remote) > HEARD

    speaker.get_by_role("button", name="Mute").click()
    expect(speaker.get_by_role("button", name="Unmute")).to_be_visible()
    expect(listener.get_by_text("Their microphone is muted")).to_be_visible()
    assert quietest_audio(remote) < SILENCE

    speaker.get_by_role("button", name="Unmute").click()
    expect(speaker.get_by_role("button", name="Mute")).to_be_visible()
    expect(listener.get_by_text("Their microphone is muted")).to_be_hidden()
    assert sound_heard(remote) > HEARD


# Every value an element's attribute had over a window (null: absent), as it changed.
ATTRIBUTE_VALUES = """
(element, [attribute, windowMs]) => new Promise((resolve) => {
  const seen = [element.getAttribute(attribute)];
  const observer = new MutationObserver(() => seen.push(element.getAttribute(attribute)));
  observer.observe(element, { attributes: true, attributeFilter: [attribute] });
  setTimeout(() => { observer.disconnect(); resolve(seen); }, windowMs);
})
"""


def ever_marked_speaking(tile: Locator, window_ms: int) -> bool:
    return "true" in tile.evaluate(ATTRIBUTE_VALUES, ["data-speaking", window_ms])


def ever_shown(element: Locator, window_ms: int) -> bool:
    return None in element.evaluate(ATTRIBUTE_VALUES, ["hidden", window_ms])


def test_the_tile_of_someone_speaking_is_marked_but_never_while_they_are_muted(server, new_page):
    speaker, listener, _ = connected_pair(server, new_page)
    tile = listener.locator("figure.tile")
    # Chromium's fake microphone beeps every second.
    assert ever_marked_speaking(tile, 3000)

    speaker.get_by_role("button", name="Mute").click()
    expect(listener.get_by_text("Their microphone is muted")).to_be_visible()
    expect(tile).to_have_attribute("data-speaking", "false")
    assert not ever_marked_speaking(tile, 4000)

    speaker.get_by_role("button", name="Unmute").click()
    assert ever_marked_speaking(tile, 4000)
    # And the other way: the listener's beeps mark their tile on the speaker's page.
    assert ever_marked_speaking(speaker.locator("figure.tile"), 3000)


def test_talking_into_a_muted_microphone_is_pointed_out_only_while_muted(server, new_page):
    speaker, _, _ = connected_pair(server, new_page)
    hint = speaker.locator("#muted-hint")
    # The fake microphone's beeps are talking, to the page; unmuted, nothing to say.
    assert not ever_shown(hint, 3000)

    speaker.get_by_role("button", name="Mute").click()
    expect(hint).to_have_text("You are muted. Press Unmute to be heard.", timeout=5000)
    expect(hint).to_be_visible()
    speaker.get_by_role("button", name="Unmute").click()
    expect(hint).to_be_hidden()
    assert not ever_shown(hint, 3000)

    # Out of the call, muted or not, nobody is there to hear: nothing said.
    speaker.get_by_role("button", name="Mute").click()
    speaker.get_by_role("button", name="Hang up").click()
    assert not ever_shown(hint, 3000)


def test_their_picture_goes_full_screen_and_pops_out_and_comes_back(server, new_page):
    host, guest, _ = connected_pair(server, new_page)
    tile = guest.locator("figure.tile")

    tile.get_by_role("button", name="Full screen").click()
    guest.wait_for_function("() => document.fullscreenElement?.matches('figure.tile') === true")
    assert presented_frames(tile.locator("video"), more_than=10)["count"] > 10
    tile.get_by_role("button", name="Exit full screen").click()
    guest.wait_for_function("() => document.fullscreenElement === null")
    expect(tile.get_by_role("button", name="Full screen")).to_be_visible()

    tile.get_by_role("button", name="Pop out").click()
    guest.wait_for_function(
        "() => document.pictureInPictureElement?.closest('figure.tile') != null"
    )
    tile.get_by_role("button", name="Back to the page").click()
    guest.wait_for_function("() => document.pictureInPictureElement === null")
    expect(tile.get_by_role("button", name="Pop out")).to_be_visible()

    # Popped out when they hang up: their window goes with their tile.
    tile.get_by_role("button", name="Pop out").click()
    guest.wait_for_function("() => document.pictureInPictureElement !== null")
    host.get_by_role("button", name="Hang up").click()
    expect(tile).to_have_count(0)
    guest.wait_for_function("() => document.pictureInPictureElement === null")


def test_m_and_v_mute_and_turn_the_camera_off_but_not_while_typing(server, new_page):
    person, other, _ = connected_pair(server, new_page)
    expect(person.get_by_role("button", name="Mute")).to_have_attribute("aria-keyshortcuts", "M")
    expect(person.get_by_role("button", name="Mute")).to_have_attribute("title", "Mute (M)")

    person.keyboard.press("m")
    expect(person.get_by_role("button", name="Unmute")).to_be_visible()
    expect(person.get_by_role("button", name="Unmute")).to_have_attribute("title", "Unmute (M)")
    expect(other.get_by_text("Their microphone is muted")).to_be_visible()
    person.keyboard.press("v")
    expect(person.get_by_role("button", name="Camera on")).to_be_visible()
    expect(other.get_by_text("Their camera is off")).to_be_visible()

    # Typed into the chat, the same keys are letters.
    message = person.get_by_role("textbox", name="Message")
    message.press_sequentially("mv")
    expect(message).to_have_value("mv")
    expect(person.get_by_role("button", name="Unmute")).to_be_visible()
    expect(person.get_by_role("button", name="Camera on")).to_be_visible()
    # Out of the text box again; with Ctrl, the key is the browser's, not ours.
    message.blur()
    person.keyboard.press("Control+m")
    expect(person.get_by_role("button", name="Unmute")).to_be_visible()

    person.keyboard.press("m")
    person.keyboard.press("v")
    expect(other.get_by_text("Their microphone is muted")).to_be_hidden()
    expect(other.get_by_text("Their camera is off")).to_be_hidden()
    expect(person.get_by_role("button", name="Mute")).to_be_visible()


def test_camera_off_stops_the_camera_and_the_other_side_sees_it(server, new_page):
    sender, viewer, _ = connected_pair(server, new_page)
    sender.get_by_role("button", name="Camera off").click()
    expect(sender.get_by_role("button", name="Camera on")).to_be_visible()
    expect(viewer.get_by_text("Their camera is off")).to_be_visible()
    # Off means off: no camera track left running on the sender's page.
    expect(sender.get_by_label("Your camera", exact=True)).to_have_js_property("srcObject", None)
    expect(sender.locator(".local").get_by_text("Camera off")).to_be_visible()  # not a black box

    sender.get_by_role("button", name="Camera on").click()
    expect(viewer.get_by_text("Their camera is off")).to_be_hidden()
    assert_receives_video(viewer)
    assert (
        presented_frames(sender.get_by_label("Your camera", exact=True), more_than=5)["count"] > 5
    )
    expect(sender.locator(".local").get_by_text("Camera off")).to_be_hidden()


def test_a_camera_and_microphone_that_stop_mid_call_show_as_off_on_both_sides_and_come_back(
    server, new_page
):
    """A device can stop by itself mid-call (unplugged, taken by another app, its
    permission withdrawn): its track ends. The page used to go on as if nothing had
    happened: its buttons said the camera was on, the other side was told so and
    got a frozen picture, and nothing but reloading brought the devices back."""
    person, other = new_page(withdrawable_permissions=True), new_page()
    join_call(other, start_call(person, server))
    for page in (person, other):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    assert_receives_video(other)

    person.context.clear_permissions()  # the browser ends both tracks
    notice = person.get_by_role("alert")
    expect(notice).to_contain_text("Your camera and microphone stopped")
    expect(person.get_by_role("button", name="Camera on")).to_be_visible()
    expect(person.get_by_role("button", name="Unmute")).to_be_visible()
    expect(other.get_by_text("Their camera is off")).to_be_visible()
    expect(other.get_by_text("Their microphone is muted")).to_be_visible()

    # Still not allowed: it says why and stays off.
    person.get_by_role("button", name="Camera on").click()
    expect(notice).to_contain_text("Cannot open the camera: access was denied")
    expect(person.get_by_role("button", name="Camera on")).to_be_visible()

    person.context.grant_permissions(["camera", "microphone"])
    person.get_by_role("button", name="Camera on").click()
    expect(person.get_by_role("button", name="Camera off")).to_be_visible()
    expect(other.get_by_text("Their camera is off")).to_be_hidden()
    assert_receives_video(other)
    person.get_by_role("button", name="Unmute").click()
    expect(person.get_by_role("button", name="Mute")).to_be_visible()
    expect(other.get_by_text("Their microphone is muted")).to_be_hidden()
    expect(notice).to_be_hidden()
    assert sound_heard(other.get_by_label("Remote video")) > HEARD


def test_switching_camera_changes_what_is_sent_without_a_new_offer(server, new_page):
    sender, receiver, offers = connected_pair(server, new_page)
    offers_at_connect = offers[0]
    assert offers_at_connect == 1  # the open offer: the counter does count
    preview = sender.get_by_label("Your camera", exact=True)
    assert video_track_label(preview) == "fake_device_0"

    # From the list: (fake_device_1 gives frames WebRTC cannot encode, see conftest)
    sender.get_by_role("combobox", name="Camera", exact=True).select_option(label="fake_device_2")
    sender.wait_for_function(
        "() => document.getElementById('local-video').srcObject?.getVideoTracks()[0]?.label"
        " === 'fake_device_2'",
        polling=200,
    )
    # The old camera was stopped, so video still arriving is the new camera.
    assert_receives_video(receiver)

    # With the button: the next camera in the list, here back to the first.
    sender.get_by_role("button", name="Switch camera").click()
    sender.wait_for_function(
        "() => document.getElementById('local-video').srcObject?.getVideoTracks()[0]?.label"
        " === 'fake_device_0'",
        polling=200,
    )
    assert_receives_video(receiver)
    camera_list = sender.get_by_role("combobox", name="Camera", exact=True)
    assert camera_list.evaluate("(s) => s.selectedOptions[0].textContent") == "fake_device_0"
    assert offers[0] == offers_at_connect  # replaceTrack: no renegotiation
    expect(status(receiver)).to_have_text("Connected")


def test_sharing_the_screen_sends_it_and_stopping_goes_back_to_the_camera(server, new_page):
    sharer, viewer, offers = connected_pair(server, new_page)
    offers_at_connect = offers[0]
    sharer.get_by_role("button", name="Share screen").click()
    expect(sharer.get_by_role("button", name="Stop sharing")).to_be_visible()
    preview = sharer.get_by_label("Your camera", exact=True)
    expect(preview).not_to_have_js_property("srcObject", None)
    assert "fake_device" not in video_track_label(preview)  # the screen, not a camera
    assert_receives_video(viewer)
    # Shown whole on the other side: a camera's picture is cropped to fill its tile,
    # a screen's would lose its edges.
    their_picture = viewer.get_by_label("Remote video")
    expect(their_picture).to_have_css("object-fit", "contain")

    sharer.get_by_role("button", name="Stop sharing").click()
    expect(sharer.get_by_role("button", name="Share screen")).to_be_visible()
    assert video_track_label(preview) == "fake_device_0"
    assert_receives_video(viewer)
    expect(their_picture).to_have_css("object-fit", "cover")
    assert offers[0] == offers_at_connect == 1


def test_a_shared_screen_s_sound_is_heard_with_the_microphone_muted(server, new_page):
    """Sharing a tab with its sound (Chrome's "Also share tab audio"): the others hear
    it, also while the microphone is muted; the microphone alone once sharing stops."""
    sharer, viewer, offers = connected_pair(server, new_page)
    offers_at_connect = offers[0]
    remote = viewer.get_by_label("Remote video")
    sharer.get_by_role("button", name="Mute").click()
    expect(viewer.get_by_text("Their microphone is muted")).to_be_visible()
    assert quietest_audio(remote) < SILENCE

    # With the fake picker, Chromium shares a screen and a beeping sound.
    sharer.get_by_role("button", name="Share screen").click()
    expect(sharer.get_by_role("button", name="Stop sharing")).to_be_visible()
    assert sound_heard(remote) > HEARD  # the screen's sound, the microphone muted
    expect(viewer.get_by_text("Their microphone is muted")).to_be_visible()

    sharer.get_by_role("button", name="Stop sharing").click()
    expect(sharer.get_by_role("button", name="Share screen")).to_be_visible()
    assert quietest_audio(remote) < SILENCE
    sharer.get_by_role("button", name="Unmute").click()
    assert sound_heard(remote) > HEARD  # the microphone alone, as before the sharing
    assert offers[0] == offers_at_connect  # replaceTrack: no renegotiation


# The screen's sound made silent, so that what is heard comes from the microphone.
SILENT_SCREEN_SOUND = """() => {
  const getDisplayMedia = MediaDevices.prototype.getDisplayMedia;
  MediaDevices.prototype.getDisplayMedia = async function (...args) {
    const stream = await getDisplayMedia.apply(this, args);
    for (const track of stream.getAudioTracks()) {
      stream.removeTrack(track);
      track.stop();
    }
    const silence = new AudioContext().createMediaStreamDestination();
    stream.addTrack(silence.stream.getAudioTracks()[0]);
    return stream;
  };
}"""


def test_the_microphone_is_heard_and_muted_as_ever_while_a_screen_s_sound_is_shared(
    server, new_page
):
    sharer, viewer, _ = connected_pair(server, new_page)
    sharer.evaluate(SILENT_SCREEN_SOUND)
    remote = viewer.get_by_label("Remote video")
    sharer.get_by_role("button", name="Share screen").click()
    expect(sharer.get_by_role("button", name="Stop sharing")).to_be_visible()
    assert sound_heard(remote) > HEARD  # the microphone, in the mix
    sharer.get_by_role("button", name="Mute").click()
    expect(viewer.get_by_text("Their microphone is muted")).to_be_visible()
    assert quietest_audio(remote) < SILENCE
    sharer.get_by_role("button", name="Unmute").click()
    assert sound_heard(remote) > HEARD
    # Another microphone picked mid-share: it is the one in the mix now.
    microphones = sharer.get_by_role("combobox", name="Microphone", exact=True)
    other = microphones.locator("option").nth(1).get_attribute("value")
    microphones.select_option(other)
    # The old microphone is stopped as the new one opens (a moment, with fake devices):
    # a mix that kept it would be silent from then on.
    sharer.wait_for_timeout(1000)
    assert sound_heard(remote) > HEARD


def test_an_upright_picture_is_shown_whole_in_a_lying_tile(server, new_page):
    phone, laptop, _ = connected_pair(server, new_page)
    their_picture = laptop.get_by_label("Remote video")
    expect(their_picture).to_have_css("object-fit", "cover")  # both lying: it fills
    # The phone is held upright: its camera's picture stands (cropped from the fake
    # device's 640x480, as a real phone's turns with it).
    phone.evaluate(
        """() => document.getElementById("local-video").srcObject.getVideoTracks()[0]
            .applyConstraints({ width: 360, height: 480, resizeMode: "crop-and-scale" })"""
    )
    laptop.wait_for_function(
        """() => { const video = document.querySelector("figure.remote video");
                   return video.videoHeight > video.videoWidth; }""",
        timeout=15_000,
        polling=200,
    )
    # Cropped to the tile it would lose its top and bottom (a face's forehead and
    # chin): shown whole instead.
    expect(their_picture).to_have_css("object-fit", "contain")
    phone.evaluate(
        """() => document.getElementById("local-video").srcObject.getVideoTracks()[0]
            .applyConstraints({ width: 640, height: 480 })"""
    )
    expect(their_picture).to_have_css("object-fit", "cover", timeout=15_000)


# Records every screen wake lock the page takes (test instrumentation: the locks are
# the browser's own).
RECORD_WAKE_LOCKS = """
(() => {
  const request = WakeLock.prototype.request;
  window.__wakeLocks = [];
  WakeLock.prototype.request = async function (...args) {
    const lock = await request.apply(this, args);
    window.__wakeLocks.push(lock);
    return lock;
  };
})();
"""
HELD_WAKE_LOCKS = "() => window.__wakeLocks.filter((lock) => !lock.released).length"


def test_the_screen_stays_on_during_a_call_and_may_turn_off_after(server, new_page):
    host = new_page()
    host.add_init_script(RECORD_WAKE_LOCKS)
    host.goto(server.url)
    expect(host.get_by_role("button", name="New call")).to_be_visible()
    assert host.evaluate("() => window.__wakeLocks.length") == 0  # not for the preview
    link = start_call(host, server)
    # Waiting for someone is in the call too: a phone on the table, waiting.
    host.wait_for_function(f"() => ({HELD_WAKE_LOCKS})() === 1", timeout=5_000)
    guest = new_page()
    guest.add_init_script(RECORD_WAKE_LOCKS)
    join_call(guest, link)
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
        page.wait_for_function(f"() => ({HELD_WAKE_LOCKS})() === 1", timeout=5_000)
    # The browser lets go of the lock while the page is hidden (another app in front);
    # seen again, the page takes it again. (Headless, the page is never hidden: the
    # test lets go of the lock and says the page is visible.)
    host.evaluate(
        """async () => {
            await Promise.all(window.__wakeLocks.map((lock) => lock.release()));
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    host.wait_for_function(f"() => ({HELD_WAKE_LOCKS})() === 1", timeout=5_000)
    guest.get_by_role("button", name="Hang up").click()
    guest.wait_for_function(f"() => ({HELD_WAKE_LOCKS})() === 0", timeout=5_000)
    expect(status(host)).to_contain_text("left", timeout=20_000)
    assert host.evaluate(HELD_WAKE_LOCKS) == 1  # still in the call, waiting


# What the page tells the browser's Media Session: its handlers by action (null once
# taken away), and whether it says the microphone and camera are on.
RECORD_MEDIA_SESSION = """
(() => {
  const session = MediaSession.prototype;
  const setActionHandler = session.setActionHandler;
  window.__mediaSession = { handlers: {}, microphone: null, camera: null };
  session.setActionHandler = function (action, handler) {
    window.__mediaSession.handlers[action] = handler;
    return setActionHandler.call(this, action, handler);
  };
  session.setMicrophoneActive = function (active) { window.__mediaSession.microphone = active; };
  session.setCameraActive = function (active) { window.__mediaSession.camera = active; };
})();
"""


def press_browser_button(page: Page, action: str) -> None:
    """What the picture-in-picture window's (or the system's) call button does."""
    page.evaluate(
        "(action) => window.__mediaSession.handlers[action]({ action })",
        action,
    )


def test_the_browser_s_own_call_buttons_pop_out_mute_turn_the_camera_off_and_hang_up(
    server, new_page
):
    person, other = new_page(), new_page()
    person.add_init_script(RECORD_MEDIA_SESSION)
    person.goto(server.url)
    expect(person.get_by_role("button", name="New call")).to_be_visible()
    assert person.evaluate("() => window.__mediaSession.handlers") == {}  # not in a call
    join_call(other, start_call(person, server))
    expect(status(person)).to_have_text("Connected", timeout=20_000)
    handlers = "() => Object.keys(window.__mediaSession.handlers).sort()"
    assert person.evaluate(handlers) == [
        "enterpictureinpicture", "hangup", "togglecamera", "togglemicrophone",
    ]  # fmt: skip
    assert person.evaluate("() => window.__mediaSession.microphone") is True
    assert person.evaluate("() => window.__mediaSession.camera") is True

    # Switching away from the tab, Chrome asks for a picture to pop out: theirs.
    assert_receives_video(person)
    press_browser_button(person, "enterpictureinpicture")
    person.wait_for_function(
        "() => document.pictureInPictureElement?.matches('figure.remote video') === true"
    )
    expect(person.get_by_role("button", name="Back to the page")).to_be_visible()
    press_browser_button(person, "enterpictureinpicture")  # one is out: nothing more
    person.evaluate("() => document.exitPictureInPicture()")

    press_browser_button(person, "togglemicrophone")
    expect(person.get_by_role("button", name="Unmute")).to_be_visible()
    expect(other.get_by_text("Their microphone is muted")).to_be_visible()
    person.wait_for_function("() => window.__mediaSession.microphone === false")
    press_browser_button(person, "togglecamera")
    expect(person.get_by_role("button", name="Camera on")).to_be_visible()
    expect(other.get_by_text("Their camera is off")).to_be_visible()
    person.wait_for_function("() => window.__mediaSession.camera === false")
    press_browser_button(person, "togglemicrophone")
    expect(person.get_by_role("button", name="Mute")).to_be_visible()
    person.wait_for_function("() => window.__mediaSession.microphone === true")

    press_browser_button(person, "hangup")
    expect(person.get_by_role("button", name="Hang up")).to_be_hidden()
    expect(status(other)).to_contain_text("left", timeout=20_000)
    # Out of the call, the browser shows no call buttons.
    still_set = "() => Object.values(window.__mediaSession.handlers).filter(Boolean).length"
    assert person.evaluate(still_set) == 0


# Headless, a page is never out of sight: the test says when it is (another tab in
# front), as the browser would.
OUT_OF_SIGHT_ON_REQUEST = """
(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (hidden ? "hidden" : "visible"), configurable: true,
  });
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden, configurable: true });
  window.__setOutOfSight = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def test_the_tab_title_tells_who_joined_and_how_many_messages_came_while_out_of_sight(
    server, new_page
):
    host, guest = new_page(), new_page()
    host.add_init_script(OUT_OF_SIGHT_ON_REQUEST)
    link = start_call(host, server)
    assert host.title() == "peercall"
    host.evaluate("() => window.__setOutOfSight(true)")  # another tab in front
    guest.goto(link)
    guest.get_by_label("Your name").fill("<b>Ann</b>")
    guest.get_by_role("button", name="Join").click()
    expect(host).to_have_title("<b>Ann</b> joined · peercall", timeout=20_000)  # as text
    expect(guest.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    chat(guest, "are you there?")
    chat(guest, "hello?")
    expect(host).to_have_title("(2) <b>Ann</b> joined · peercall")

    host.evaluate("() => window.__setOutOfSight(false)")  # seen: the news is read
    expect(host).to_have_title("peercall")
    chat(guest, "there you are")
    expect(host.get_by_role("log", name="Messages")).to_contain_text("there you are")
    assert host.title() == "peercall"  # in sight, the page itself shows it


def visible_hands(page: Page) -> Locator:
    return page.locator("figure.remote .mark:visible", has_text="Hand raised")


def test_a_raised_hand_shows_on_every_tile_of_it_until_lowered(server, new_page):
    ann, ben, _ = connected_pair(server, new_page)
    link = ann.get_by_role("textbox", name="Call link").input_value()
    # For group calls: in a call of two it would only crowd a phone's buttons.
    expect(ann.get_by_role("button", name="Mute")).to_be_visible()
    expect(ann.get_by_role("button", name="Raise hand")).to_be_hidden()
    cat = new_page()
    join_call(cat, link)
    expect(status(cat)).to_have_text("Connected", timeout=20_000)
    hand_button = ann.get_by_role("button", name="Raise hand")
    expect(hand_button).to_have_attribute("aria-pressed", "false")
    expect(hand_button).to_have_attribute("title", "Raise hand (H)")
    expect(visible_hands(ben)).to_have_count(0)

    hand_button.click()
    expect(ann.get_by_role("button", name="Lower hand")).to_have_attribute("aria-pressed", "true")
    for page in (ben, cat):
        expect(visible_hands(page)).to_have_count(1)  # Ann's tile, nobody else's
    # Someone who joins later sees it too (it is said when their channel opens).
    dan = new_page()
    join_call(dan, link)
    expect(status(dan)).to_have_text("Connected", timeout=20_000)
    expect(visible_hands(dan)).to_have_count(1, timeout=10_000)

    ann.keyboard.press("h")  # the key, as for M and V
    expect(ann.get_by_role("button", name="Raise hand")).to_have_attribute("aria-pressed", "false")
    for page in (ben, cat, dan):
        expect(visible_hands(page)).to_have_count(0)


def stat(panel, name: str):
    return panel.locator(f"dt:text-is('{name}') + dd")


def test_statistics_show_live_traffic_and_a_direct_route(server, new_page):
    page, _, _ = connected_pair(server, new_page)
    page.get_by_role("button", name="Call statistics").click()
    panel = page.get_by_role("region", name="Call statistics")
    expect(panel).to_be_visible()
    expect(stat(panel, "Route")).to_contain_text("direct: host ↔ host")
    for name in ("Sending", "Receiving"):
        expect(stat(panel, name)).to_have_text(re.compile(r"^[1-9]\d* kbit/s$"), timeout=10_000)
    expect(stat(panel, "Video received")).to_have_text(
        re.compile(r"^\d+\u00d7\d+ at \d+ fps \((VP8|VP9|H264|AV1)\)$")
    )
    expect(stat(panel, "Round trip")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(stat(panel, "Packet loss")).to_have_text(re.compile(r"^\d+\.\d %$"))
    chart = panel.get_by_role("img", name=re.compile("Bitrate over the last minute, peak"))
    expect(chart).to_be_visible()
    # Something is drawn (a line needs two samples, a second apart): not blank.
    page.wait_for_function(
        "(c) => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v)",
        arg=chart.element_handle(),
        timeout=5_000,
    )
    page.get_by_role("button", name="Call statistics").click()
    expect(panel).to_be_hidden()


def test_a_5_mb_file_arrives_whole_with_progress_on_both_sides(server, new_page, tmp_path):
    sender, receiver, _ = connected_pair(server, new_page)
    data = os.urandom(5 * 1024 * 1024)
    with sender.expect_file_chooser() as chooser:
        sender.get_by_role("button", name="Send file").click()
    chooser.value.set_files(
        {"name": "random <1>.bin", "mimeType": "application/octet-stream", "buffer": data}
    )
    sending = sender.get_by_role("progressbar", name="Sending random <1>.bin")
    expect(sending).to_be_visible()
    receiving = receiver.get_by_role("progressbar", name="Receiving random <1>.bin")
    expect(receiving).to_be_visible()
    link = receiver.get_by_role("link", name="Download random <1>.bin")
    expect(link).to_be_visible(timeout=60_000)
    expect(sender.get_by_role("log", name="Messages")).to_contain_text("Sent")
    for bar in (sending, receiving):
        expect(bar).to_have_js_property("value", len(data))

    with receiver.expect_download() as download:
        link.click()
    saved = tmp_path / "received.bin"
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(".bin")
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_received_file_opened_in_a_tab_is_downloaded_and_its_script_never_runs(server, new_page):
    """A received file's link is a blob URL of the page's own origin: opened in a tab
    (a middle click), a file the sender calls an SVG image would be a document of
    ours, whose script could use the page's storage and the server as the page can."""
    sender, receiver, _ = connected_pair(server, new_page)
    svg = b"""<svg xmlns="http://www.w3.org/2000/svg">
        <script>localStorage.setItem("ran", "yes")</script></svg>"""
    with sender.expect_file_chooser() as chooser:
        sender.get_by_role("button", name="Send file").click()
    chooser.value.set_files({"name": "card.svg", "mimeType": "image/svg+xml", "buffer": svg})
    link = receiver.get_by_role("link", name="Download card.svg")
    expect(link).to_be_visible(timeout=30_000)

    tab = receiver.context.new_page()
    # goto raises "Download is starting" when the tab downloads rather than shows it.
    with tab.expect_download(timeout=10_000) as download, contextlib.suppress(PlaywrightError):
        tab.goto(str(link.get_attribute("href")))
    assert download.value.path().read_bytes() == svg
    tab.close()
    assert receiver.evaluate("localStorage.getItem('ran')") is None


# Keeps every data channel the page makes, so that a test can speak on it directly,
# as a client of its own (or a hostile one) could.
KEEP_CHANNELS = """
const channels = [];
Object.defineProperty(window, "keptChannels", { value: channels });
const create = RTCPeerConnection.prototype.createDataChannel;
RTCPeerConnection.prototype.createDataChannel = function (...args) {
  const channel = create.apply(this, args);
  channels.push(channel);
  return channel;
};
"""


def victim_and_attacker(server, new_page) -> tuple[Page, Page]:
    """Two people whose data channel is open; the attacker's page keeps its channels
    (KEEP_CHANNELS), to send on them what its page never would."""
    victim, attacker = new_page(), new_page()
    attacker.add_init_script(KEEP_CHANNELS)
    join_call(attacker, start_call(victim, server))
    for page in (victim, attacker):
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=20_000)
    return victim, attacker


def test_a_chat_flood_from_someone_in_the_call_is_cut_short_and_said(server, new_page):
    """The data channel goes peer to peer, past the server's limits: 20,000 messages
    at once kept a page from answering for over half a minute."""
    victim, attacker = victim_and_attacker(server, new_page)

    attacker.evaluate("""() => {
        const channel = window.keptChannels.find((c) => c.readyState === "open");
        for (let n = 0; n < 3000; n++) {
            channel.send(JSON.stringify({ type: "chat", text: `flood ${n}`, sent_at: Date.now() }));
        }
    }""")
    log = victim.get_by_role("log", name="Messages")
    expect(log).to_contain_text("sent too many messages too fast: some were not shown")
    # The page goes on: later messages, at a person's pace, are shown.
    attacker.wait_for_timeout(1500)
    chat(attacker, "after the flood")
    expect(log).to_contain_text("after the flood")
    shown = log.locator("li.theirs").count()
    assert shown < 100, shown  # the first 50, and 5 a second since
    expect(log).not_to_contain_text("flood 2999")


# A 1x1 GIF: the page's policy lets it load blob: URLs as images only (not fetch them),
# so a file's link is checked by loading that file as an image.
PIXEL = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
LOADS = """(url) => new Promise((resolve) => {
    const image = new Image();
    image.onload = () => resolve(true);
    image.onerror = () => resolve(false);
    image.src = url;
})"""


def test_hanging_up_clears_the_chat_and_lets_go_of_received_files(server, new_page):
    """The chat is hidden on hanging up; it used to come back, whole, in the next call
    (a new one too), and every file received stayed in memory behind its link."""
    sender, receiver, _ = connected_pair(server, new_page)
    chat(sender, "from the first call")
    with sender.expect_file_chooser() as chooser:
        sender.get_by_role("button", name="Send file").click()
    chooser.value.set_files({"name": "pixel.gif", "mimeType": "image/gif", "buffer": PIXEL})
    link = receiver.get_by_role("link", name="Download pixel.gif")
    expect(link).to_be_visible(timeout=30_000)
    href = str(link.get_attribute("href"))
    assert receiver.evaluate(LOADS, href) is True

    receiver.get_by_role("button", name="Hang up").click()
    expect(status(receiver)).to_have_text("You left the call")
    assert receiver.evaluate(LOADS, href) is False

    receiver.get_by_role("button", name="New call").click()
    expect(status(receiver)).to_have_text("Waiting for someone to join")
    expect(receiver.get_by_role("button", name="Send", exact=True)).to_be_visible()
    expect(receiver.get_by_role("log", name="Messages").locator("li")).to_have_count(0)


def test_the_chat_keeps_its_last_lines_and_lets_go_of_older_files(server, new_page):
    """Even within the flood limit, an hour of chat is thousands of lines."""
    page = new_page()
    page.goto(server.url)
    kept = page.evaluate(
        "async (pixel) => { const loads = "
        + LOADS
        + """;
        const { ChatPanel, MAX_LOG_ITEMS } = await import("/static/js/chat.js");
        const make = (tag) => document.createElement(tag);
        const log = make("ol");
        const scroller = make("div");
        scroller.append(log);
        const panel = new ChatPanel({
            section: make("section"), log, scroller, form: make("form"), input: make("input"),
            sendButton: make("button"), fileButton: make("button"), fileInput: make("input"),
        });
        document.body.append(scroller);
        panel.addTransfer({ id: "old", name: "old.gif", size: pixel.length, mine: false });
        panel.finishTransfer("old", new Blob([new Uint8Array(pixel)]));
        const url = log.querySelector("a[download]").href;
        const loadedBefore = await loads(url);
        for (let n = 0; n < MAX_LOG_ITEMS + 9; n++) {
            panel.add({ author: "Them", text: `line ${n}`, sentAt: new Date() });
        }
        return {
            max: MAX_LOG_ITEMS,
            count: log.children.length,
            first: log.firstElementChild.querySelector(".text").textContent,
            last: log.lastElementChild.querySelector(".text").textContent,
            loadedBefore,
            loadedAfter: await loads(url),
        };
    }""",
        list(PIXEL),
    )
    assert kept["count"] == kept["max"] == 500
    assert kept["first"] == "line 9"
    assert kept["last"] == f"line {kept['max'] + 8}"
    assert kept["loadedBefore"] is True
    assert kept["loadedAfter"] is False


def test_earlier_messages_beyond_what_anybody_keeps_or_without_ids_are_not_shown(server, new_page):
    """'earlier-chat' is outside the flood limit (a newcomer gets 50 at once), so it has
    its own: 50 per channel, each needing an id to be shown once."""
    victim, attacker = victim_and_attacker(server, new_page)

    attacker.evaluate("""() => {
        const channel = window.keptChannels.find((c) => c.readyState === "open");
        const send = (message) => channel.send(JSON.stringify(message));
        send({ type: "earlier-chat", text: "no id", sent_at: 1 });
        for (let n = 0; n < 3; n++) {
            send({ type: "earlier-chat", id: "same", text: "again and again", sent_at: 2 });
        }
        for (let n = 0; n < 500; n++) {
            send({ type: "earlier-chat", id: `id-${n}`, text: `earlier ${n}`, sent_at: 3 + n });
        }
    }""")
    chat(attacker, "said now")
    log = victim.get_by_role("log", name="Messages")
    expect(log).to_contain_text("said now")
    expect(log.locator("li", has_text="again and again")).to_have_count(1)
    expect(log).not_to_contain_text("no id")
    # 50 taken on this channel, repeats counted: three "again and again" (shown once)
    # and the first 47 numbered ones.
    expect(log.locator("li", has_text="earlier ")).to_have_count(47)
    expect(log).not_to_contain_text("earlier 47")
    # Placed by their time, before what is said now; the chat goes on as ever.
    assert log.locator("li.theirs").last.inner_text().endswith("said now")
