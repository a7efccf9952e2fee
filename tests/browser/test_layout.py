"""The call on a phone and on a laptop: what fits where, and sound that needs a tap."""

import time

from playwright.sync_api import Page, expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status

TAP_LIFETIME_SECONDS = 5  # Chromium's transient user activation


def box(page: Page, name: str, role: str | None = None) -> dict[str, float]:
    locator = page.get_by_role(role, name=name, exact=True) if role else page.get_by_label(name)
    found = locator.bounding_box()
    assert found, f"{name} is not on screen"
    return found


def test_on_a_360_px_phone_the_call_fills_the_screen_with_controls_at_hand(server, new_page):
    laptop, phone = new_page(), new_page(phone=True)
    join_call(phone, start_call(laptop, server))
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    width, height = 360, 740

    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling"
    remote = box(phone, "Remote video")
    assert remote["width"] >= width - 1  # edge to edge
    assert remote["height"] > height / 2
    own = box(phone, "Your camera")
    assert own["width"] < width * 0.4  # a corner picture, over the other person
    assert remote["x"] <= own["x"] <= remote["x"] + remote["width"]

    for name in ("Hang up", "Mute", "Camera off", "Switch camera"):
        button = box(phone, name, role="button")
        assert button["height"] >= 44, name  # a finger-sized target
        assert button["x"] >= 0, name
        assert button["x"] + button["width"] <= width, name
        assert button["y"] + button["height"] <= height, f"{name} is below the screen"
    assert_receives_video(phone)


def test_on_a_laptop_the_videos_are_side_by_side(server, new_page):
    laptop, other = new_page(), new_page()
    join_call(other, start_call(laptop, server))
    expect(status(laptop)).to_have_text("Connected", timeout=20_000)
    remote, own = box(laptop, "Remote video"), box(laptop, "Your camera")
    assert remote["x"] + remote["width"] <= own["x"]
    assert abs(remote["y"] - own["y"]) < 1
    assert remote["width"] > own["width"]


def test_where_sound_needs_a_fresh_tap_the_call_asks_for_one(server, new_page):
    # Android's rule: sound may start only within a few seconds of a tap. Whoever
    # waits alone for a while gets the other person's sound long after their last tap.
    waiting = new_page(phone=True, phone_autoplay=True)
    link = start_call(waiting, server)
    time.sleep(TAP_LIFETIME_SECONDS + 1)
    # Not a look at the waiting page until the call is up: Playwright's own checks
    # count as taps there.
    joiner = new_page()
    join_call(joiner, link)
    expect(status(joiner)).to_have_text("Connected", timeout=20_000)
    time.sleep(1)
    tap = waiting.get_by_role("button", name="Tap to hear the call")
    expect(tap).to_be_visible()
    remote = waiting.get_by_label("Remote video")
    expect(remote).to_have_js_property("muted", True)
    assert_receives_video(waiting)  # the picture plays meanwhile
    tap.click()
    expect(tap).to_be_hidden()
    expect(remote).to_have_js_property("muted", False)
    expect(remote).to_have_js_property("paused", False)
