"""The page as assistive technology and low vision meet it: axe-core (the rules of
WCAG 2 A and AA that a program can check) finds nothing, in every state a person
goes through, light and dark, laptop and phone."""

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.test_call import chat, start_call, status

AXE = Axe()


def assert_accessible(page: Page, state: str) -> None:
    """No violation of any rule axe runs, in light and in dark colours."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = AXE.run(page).response["violations"]
        found = [
            f"{rule['id']} ({rule['impact']}): {rule['help']}: "
            f"{[node['target'] for node in rule['nodes']][:5]}"
            for rule in violations
        ]
        assert found == [], f"{state}, {scheme}: {found}"


def test_every_state_of_a_call_passes_axe(server, new_page):
    host = new_page()
    host.goto(server.url)
    expect(status(host)).to_contain_text("start a call")
    assert_accessible(host, "home")
    link = start_call(host, server)
    assert_accessible(host, "waiting, with the link and its QR code")

    guest = new_page(phone=True)
    guest.goto(link)
    expect(status(guest)).to_have_text("Ready to join")
    assert_accessible(guest, "invited, on a phone")
    guest.get_by_role("button", name="Join").click()
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()

    chat(host, "the notes are at https://example.org/notes")
    chat(guest, "thanks")
    guest.get_by_role("button", name="Mute").click()
    guest.get_by_role("button", name="Camera off").click()
    expect(host.get_by_text("Their microphone is muted")).to_be_visible()
    expect(host.locator("figure.tile .avatar")).to_be_visible()  # their initial
    host.get_by_role("button", name="Call statistics").click()
    expect(host.get_by_role("region", name="Call statistics")).to_be_visible()
    host.locator("figure.tile").hover()  # its buttons shown
    assert_accessible(host, "in a call on a laptop: chat, statistics, marks")
    assert_accessible(guest, "in a call on a phone, muted, camera off")

    guest.get_by_role("button", name="Hang up").click()
    expect(status(host)).to_have_text("Everybody else left. Waiting for someone to join")
    assert_accessible(host, "left alone")
    assert_accessible(guest, "after hanging up")


def test_refusals_and_notices_pass_axe(server, new_page):
    denied = new_page(camera_denied=True)
    denied.goto(server.url)
    expect(denied.get_by_role("alert")).to_contain_text("denied")
    assert_accessible(denied, "camera and microphone denied")

    lost = new_page()
    lost.goto(f"{server.url}/c/AAAAAAAAAAAAAAAAAAAAAA")
    expect(status(lost)).to_have_text("Call not found. Check the link, or start a new call.")
    assert_accessible(lost, "call not found")

    host = new_page()
    host.goto(server.url)
    host.get_by_label("Passcode (optional)").fill("correct horse")
    host.get_by_role("button", name="New call").click()
    expect(status(host)).to_have_text("Waiting for someone to join")
    guest = new_page()
    guest.goto(host.get_by_role("textbox", name="Call link").input_value())
    expect(guest.get_by_label("Passcode", exact=True)).to_be_visible()
    guest.get_by_role("button", name="Join").click()  # without it: told to give it
    expect(status(guest)).to_have_text("This call has a passcode. Enter it, then Join.")
    assert_accessible(guest, "asked for a passcode")
