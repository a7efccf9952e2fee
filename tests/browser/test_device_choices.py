"""The camera, microphone and speaker a person picks: used at once, by every tile
that comes, and remembered on that device for the next call (Chromium's fake devices:
one camera, three microphones and three sound outputs, "default" first)."""

import json

from playwright.sync_api import Locator, Page, expect

from tests.browser.test_call import start_call, status
from tests.browser.test_group_call import assert_sees, enter

STORAGE_KEY = "peercall.devices"  # device-choices.js
# The sound output of every tile.
# The browser stops listing a device and says the devices changed, as it does when a
# headset is unplugged (fake devices cannot be); plugged in again with `null`.
UNPLUG = """
(deviceId) => {
  const devices = navigator.mediaDevices;
  if (!devices.__listed) {
    devices.__listed = devices.enumerateDevices.bind(devices);
    devices.enumerateDevices = async () =>
      (await devices.__listed()).filter((device) => device.deviceId !== devices.__unplugged);
  }
  devices.__unplugged = deviceId;
  devices.dispatchEvent(new Event("devicechange"));
}
"""
SINK_IDS = "() => [...document.querySelectorAll('#tiles video')].map((video) => video.sinkId)"


def device_list(page: Page, name: str) -> Locator:
    return page.get_by_role("combobox", name=name, exact=True)


def option_id(select: Locator, label: str) -> str:
    value = select.locator("option", has_text=label).get_attribute("value")
    assert value, f"no {label} among {select.locator('option').all_inner_texts()}"
    return value


def wait_for_sinks(page: Page, count: int, sink_id: str) -> None:
    """Every one of `count` tiles plays on `sink_id` (the page sets it as tiles come)."""
    page.wait_for_function(
        f"(wanted) => {{ const ids = ({SINK_IDS})(); "
        f"return ids.length === {count} && ids.every((id) => id === wanted); }}",
        arg=sink_id,
    )


def test_the_speaker_picked_plays_every_tile_and_the_choices_are_remembered(server, new_page):
    host = new_page()
    link = start_call(host, server)

    guest = new_page()
    guest.goto(link)
    expect(status(guest)).to_have_text("Ready to join")
    speaker = device_list(guest, "Speaker")
    microphone = device_list(guest, "Microphone")
    expect(speaker.locator("option")).to_have_count(3)
    assert speaker.locator("option").all_inner_texts()[0] == "Fake Default Audio Output"
    headset = option_id(speaker, "Fake Audio Output 1")
    speaker.select_option(headset)  # before joining: nobody's tile exists yet
    second_microphone = option_id(microphone, "Fake Audio Input 2")
    microphone.select_option(second_microphone)
    expect(microphone).to_have_value(second_microphone)  # opened, and shown as in use
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=30_000)
    wait_for_sinks(guest, 1, headset)

    # A tile made after the choice plays on the chosen speaker too.
    third = new_page()
    enter(third, "Third", link, "Join")
    assert_sees(guest, "Guest", "Third")
    wait_for_sinks(guest, 2, headset)
    # The others' tiles play on their own default.
    wait_for_sinks(host, 2, "")

    # Back to the default output, then the headset again: each pick applies to every tile.
    speaker.select_option(option_id(speaker, "Fake Default Audio Output"))
    wait_for_sinks(guest, 2, "default")
    speaker.select_option(headset)
    wait_for_sinks(guest, 2, headset)

    # The headset unplugged: the default output until it is plugged in again.
    guest.evaluate(UNPLUG, headset)
    wait_for_sinks(guest, 2, "")
    expect(speaker).to_have_value("default")
    guest.evaluate(UNPLUG, None)
    wait_for_sinks(guest, 2, headset)
    expect(speaker).to_have_value(headset)

    # Next visit on this device: the same speaker and microphone, without picking them.
    guest.reload()
    expect(status(guest)).to_have_text("Ready to join")
    expect(speaker).to_have_value(headset)
    expect(microphone).to_have_value(second_microphone)
    assert json.loads(guest.evaluate(f"localStorage.getItem('{STORAGE_KEY}')")) == {
        "microphone": second_microphone,
        "speaker": headset,
    }
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=30_000)
    wait_for_sinks(guest, 2, headset)


def test_remembered_devices_that_are_gone_or_unreadable_fall_back_to_the_defaults(server, new_page):
    page = new_page()
    page.goto(server.url)
    expect(status(page)).to_have_text("Choose your camera and microphone, then start a call.")
    for stored in (
        "not json",
        json.dumps({"camera": "gone", "microphone": "gone", "speaker": "gone"}),
    ):
        page.evaluate("([key, value]) => localStorage.setItem(key, value)", [STORAGE_KEY, stored])
        page.reload()
        expect(status(page)).to_have_text("Choose your camera and microphone, then start a call.")
        # The defaults, opened and shown, and nothing said: gone is not an error.
        expect(page.locator("#media-notice")).to_be_hidden()
        expect(device_list(page, "Camera")).not_to_have_value("")
        expect(device_list(page, "Microphone")).to_have_value("default")
        expect(device_list(page, "Speaker")).to_have_value("default")
        assert page.get_by_label("Your camera").evaluate("(v) => v.srcObject !== null")

    start_call(page, server)
    guest = new_page()
    guest.goto(page.get_by_role("textbox", name="Call link").input_value())
    guest.get_by_role("button", name="Join").click()
    expect(status(page)).to_have_text("Connected", timeout=30_000)
    wait_for_sinks(page, 1, "")  # the default output: the gone speaker was not tried


# The highest value a <meter> shows over a window (it is redrawn every 50 ms).
METER_PEAK = """
(meter, windowMs) => new Promise((resolve) => {
  let peak = 0;
  const until = performance.now() + windowMs;
  const timer = setInterval(() => {
    peak = Math.max(peak, meter.value);
    if (performance.now() < until) return;
    clearInterval(timer);
    resolve(peak);
  }, 20);
})
"""
# Chromium's fake microphones beep at about -14 dBFS: three quarters of the bar.
BEEPING = 0.5
# The bar falls from full to empty within a second (microphone-meter.js), or a little
# more on a busy machine.
FALL_MS = 1500


def microphone_level(page: Page) -> Locator:
    return page.get_by_role("meter", name="Microphone level")


def level_peak(page: Page, window_ms: int = 3000) -> float:
    return microphone_level(page).evaluate(METER_PEAK, window_ms)


def test_the_microphone_level_follows_the_microphone_picked_and_is_empty_while_muted(
    server, new_page
):
    page = new_page()
    page.goto(server.url)
    expect(status(page)).to_have_text("Choose your camera and microphone, then start a call.")
    expect(microphone_level(page)).to_be_visible()
    assert level_peak(page) > BEEPING

    microphones = device_list(page, "Microphone")
    microphones.select_option(option_id(microphones, "Fake Audio Input 2"))
    expect(microphones).to_have_value(option_id(microphones, "Fake Audio Input 2"))
    page.wait_for_timeout(FALL_MS)  # what the old microphone showed is gone
    assert level_peak(page) > BEEPING  # the new microphone's, the old one being stopped

    start_call(page, server)
    page.get_by_role("button", name="Mute").click()
    # What is sent: nothing while muted (once the bar has fallen back, within a second).
    expect(microphone_level(page)).to_have_attribute("value", "0")
    assert level_peak(page, window_ms=2000) == 0
    page.get_by_role("button", name="Unmute").click()
    assert level_peak(page) > BEEPING


# Chrome on a computer and Safari let a page's sound start only once the person has
# touched it; Chromium under Playwright never holds it back (and Playwright's own
# calls into the page count as touches), so the rule is played here: a new
# AudioContext is suspended, and resume() is refused until a tap or a key.
SOUND_AFTER_A_TOUCH = """
(() => {
  let touched = false;
  for (const type of ["pointerup", "keydown"]) {
    window.addEventListener(type, () => { touched = true; }, true);
  }
  const BrowserAudioContext = window.AudioContext;
  window.AudioContext = class extends BrowserAudioContext {
    constructor(...args) {
      super(...args);
      super.suspend();
    }
    resume() {
      if (touched) return super.resume();
      return Promise.reject(new DOMException("not allowed to start", "NotAllowedError"));
    }
  };
})();
"""


def test_the_microphone_level_starts_at_the_first_touch_where_sound_waits_for_one(server, new_page):
    page = new_page(phone=True)
    page.add_init_script(SOUND_AFTER_A_TOUCH)
    page.goto(server.url)
    expect(status(page)).to_have_text("Choose your camera and microphone, then start a call.")
    expect(microphone_level(page)).to_be_visible()
    expect(microphone_level(page)).to_have_attribute("value", "0")
    assert level_peak(page, window_ms=1500) == 0  # sound held back
    page.get_by_label("Your name").tap()
    assert level_peak(page) > BEEPING


def test_without_a_microphone_there_is_no_level(server, new_page):
    page = new_page(camera_denied=True)
    page.goto(server.url)
    expect(page.get_by_role("alert")).to_contain_text("denied")
    expect(microphone_level(page)).to_be_hidden()
