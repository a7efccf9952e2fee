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
