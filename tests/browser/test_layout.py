"""The call on a phone and on a laptop: what fits where."""

from playwright.sync_api import Page, expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status


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
