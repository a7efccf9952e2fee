"""The call on a phone and on a laptop: what fits where, and sound that needs a tap."""

import time

from playwright.sync_api import Locator, Page, expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status

TAP_LIFETIME_SECONDS = 5  # Chromium's transient user activation


def box(page: Page, name: str, role: str | None = None) -> dict[str, float]:
    locator = page.get_by_role(role, name=name, exact=True) if role else page.get_by_label(name)
    found = locator.bounding_box()
    assert found, f"{name} is not on screen"
    return found


def shown_box(locator: Locator, what: str) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{what} is not shown"
    return found


CALL_BUTTONS = ("Hang up", "Mute", "Camera off", "Switch camera")


def assert_on_screen(page: Page, found: dict[str, float], what: str) -> None:
    """`found` (a bounding box) is wholly on the screen: seen without scrolling."""
    assert page.viewport_size
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert found["x"] >= 0, f"{what} starts left of the screen"
    assert found["x"] + found["width"] <= width, f"{what} goes past the right of the screen"
    assert found["y"] >= 0, f"{what} is above the screen"
    assert found["y"] + found["height"] <= height, f"{what} goes below the screen"


def assert_at_hand(page: Page) -> None:
    """The call's buttons wholly on the screen, finger-sized."""
    for name in CALL_BUTTONS:
        button = box(page, name, role="button")
        assert button["height"] >= 44, name
        assert_on_screen(page, button, name)


def assert_in_sight_above_the_controls(page: Page, found: dict[str, float], what: str) -> None:
    """On the screen, and not under the call's buttons along the bottom: what the
    page says must be read without scrolling."""
    assert_on_screen(page, found, what)
    shown = [n for n in CALL_BUTTONS if page.get_by_role("button", name=n, exact=True).is_visible()]
    controls_top = min(box(page, name, role="button")["y"] for name in shown)
    assert found["y"] + found["height"] <= controls_top, (
        f"{what} ends at {found['y'] + found['height']}px, under the controls at {controls_top}px"
    )


def assert_no_sideways_scrolling(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling"


def test_on_a_360_px_phone_the_call_fills_the_screen_with_controls_at_hand(server, new_page):
    laptop, phone = new_page(), new_page(phone=True)
    join_call(phone, start_call(laptop, server))
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    width, height = 360, 740

    assert_no_sideways_scrolling(phone)
    remote = box(phone, "Remote video")
    assert remote["width"] >= width - 1  # edge to edge
    assert remote["height"] > height / 2
    own = box(phone, "Your camera")
    assert own["width"] < width * 0.4  # a corner picture, over the other person
    assert remote["x"] <= own["x"] <= remote["x"] + remote["width"]
    assert_at_hand(phone)
    # The call's state (connected, reconnecting, ended) is read at a glance.
    assert_in_sight_above_the_controls(phone, shown_box(status(phone), "the status"), "the status")
    assert_receives_video(phone)


def test_on_a_phone_a_notice_about_its_camera_is_in_sight_with_the_status(server, new_page):
    laptop, phone = new_page(), new_page(phone=True, no_camera=True)
    join_call(phone, start_call(laptop, server))
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    notice = phone.get_by_role("alert")
    expect(notice).to_contain_text("No camera was found")
    expect(phone.locator(".local").get_by_text("No camera")).to_be_visible()  # not a black box
    for what, locator in (("the notice", notice), ("the status", status(phone))):
        assert_in_sight_above_the_controls(phone, shown_box(locator, what), what)
    # Join was pressed low on a page made longer by the notice: the call starts at
    # the top of the screen all the same.
    assert phone.evaluate("window.scrollY") == 0
    remote = box(phone, "Remote video")
    assert remote["y"] == 0
    assert remote["height"] > phone.viewport_size["height"] / 2  # still most of it

    phone.set_viewport_size({"width": 740, "height": 360})  # held sideways
    for what, locator in (("the notice", notice), ("the status", status(phone))):
        assert_on_screen(phone, shown_box(locator, what), what)
    found = shown_box(notice, "the notice")
    assert found["x"] + found["width"] <= box(phone, "Hang up", role="button")["x"], (
        "the notice is over the buttons"
    )


def test_a_phone_turned_sideways_mid_call_keeps_the_picture_whole_and_the_controls_at_hand(
    server, new_page
):
    laptop, phone = new_page(), new_page(phone=True)
    join_call(phone, start_call(laptop, server))
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    width, height = 740, 360
    phone.set_viewport_size({"width": width, "height": height})

    assert_no_sideways_scrolling(phone)
    remote = box(phone, "Remote video")
    assert remote["y"] == 0, remote  # top to bottom
    assert remote["height"] >= height - 1, remote
    assert remote["width"] > width / 2, remote
    own = box(phone, "Your camera")
    assert own["width"] < width * 0.3  # a corner picture, over the other person
    assert remote["x"] <= own["x"]
    assert own["x"] + own["width"] <= remote["x"] + remote["width"]
    assert_at_hand(phone)
    for name in CALL_BUTTONS:  # beside the picture, not over it
        assert box(phone, name, role="button")["x"] >= remote["x"] + remote["width"], name
    assert_on_screen(phone, shown_box(status(phone), "the status"), "the status")
    assert_receives_video(phone)

    phone.set_viewport_size({"width": height, "height": width})  # upright again
    assert box(phone, "Remote video")["width"] >= height - 1
    assert_at_hand(phone)


def test_a_phone_held_sideways_sees_itself_and_join_without_scrolling(server, new_page):
    laptop, phone = new_page(), new_page(phone=True)
    link = start_call(laptop, server)
    phone.set_viewport_size({"width": 740, "height": 360})
    phone.goto(link)
    expect(status(phone)).to_have_text("Ready to join")
    assert_no_sideways_scrolling(phone)
    for what in ("Your camera", "Your name"):
        assert_on_screen(phone, box(phone, what), what)
    assert_on_screen(phone, shown_box(status(phone), "the status"), "the status")
    assert_on_screen(phone, box(phone, "Join", role="button"), "Join")
    phone.get_by_role("button", name="Join").click()
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    assert_at_hand(phone)


def test_on_a_phone_whoever_starts_a_call_has_its_link_and_code_in_sight(server, new_page):
    """Sending the link is what the one who starts a call does next: on a phone it is
    in sight, not below a screenful of empty picture, upright and sideways."""
    phone = new_page(phone=True)
    start_call(phone, server)
    link_parts = (
        (phone.get_by_role("textbox", name="Call link"), "the link"),
        (phone.get_by_role("button", name="Copy link"), "Copy link"),
        (phone.get_by_role("img", name="QR code of the call link"), "the QR code"),
    )
    for locator, what in link_parts:
        assert_in_sight_above_the_controls(phone, shown_box(locator, what), what)
    assert_in_sight_above_the_controls(phone, shown_box(status(phone), "the status"), "the status")
    own = box(phone, "Your camera")
    assert own["y"] >= 0  # its own picture still there, at the top

    phone.set_viewport_size({"width": 740, "height": 360})
    for locator, what in link_parts[:2]:  # the code may be a scroll away
        assert_on_screen(phone, shown_box(locator, what), what)

    laptop = new_page()
    join_call(laptop, phone.get_by_role("textbox", name="Call link").input_value())
    expect(status(phone)).to_have_text("Connected", timeout=20_000)
    # Somebody came: the picture fills the screen again, the link below.
    phone.set_viewport_size({"width": 360, "height": 740})
    assert box(phone, "Remote video")["height"] > 740 / 2


def test_on_a_laptop_whoever_starts_a_call_has_its_link_and_code_in_sight(server, new_page):
    laptop = new_page()  # 1280 x 800
    start_call(laptop, server)
    for locator, what in (
        (laptop.get_by_role("textbox", name="Call link"), "the link"),
        (laptop.get_by_role("button", name="Copy link"), "Copy link"),
        (laptop.get_by_role("img", name="QR code of the call link"), "the QR code"),
        (laptop.get_by_role("button", name="Hang up"), "Hang up"),
    ):
        assert_on_screen(laptop, shown_box(locator, what), what)


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
