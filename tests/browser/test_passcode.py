"""A call with a passcode, in two real browsers: the creator sets it, the invited
person is asked for it, a wrong one is said to be wrong, the right one connects."""

import re

from playwright.sync_api import expect

from tests.browser.test_call import assert_receives_video, status

PASSCODE = "kingfisher"


def test_the_invited_person_is_asked_for_the_passcode(server, new_page):
    host = new_page()
    guest = new_page(phone=True)
    host.goto(server.url)
    host.get_by_label("Passcode (optional)").fill(PASSCODE)
    host.get_by_role("button", name="New call").click()
    expect(status(host)).to_have_text("Waiting for someone to join")
    expect(host.get_by_label("Passcode (optional)")).to_be_hidden()
    link = host.get_by_role("textbox", name="Call link").input_value()
    assert PASSCODE not in link  # the passcode travels apart from the link

    guest.goto(link)
    expect(status(guest)).to_have_text("Ready to join")
    passcode = guest.get_by_label("Passcode", exact=True)
    expect(passcode).to_be_visible()
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text(re.compile("has a passcode"))
    passcode.fill("heron")
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("That passcode is not right. Try again.")
    expect(status(host)).to_have_text("Waiting for someone to join")  # nobody got in
    passcode.fill(PASSCODE)
    guest.get_by_role("button", name="Join").click()
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    expect(status(host)).to_have_text("Connected", timeout=20_000)
    expect(passcode).to_be_hidden()
    assert_receives_video(guest)
    assert_receives_video(host)


def test_a_call_without_a_passcode_asks_for_none(server, new_page):
    host, guest = new_page(), new_page()
    host.goto(server.url)
    host.get_by_role("button", name="New call").click()
    link = host.get_by_role("textbox", name="Call link").input_value()
    guest.goto(link)
    expect(status(guest)).to_have_text("Ready to join")
    expect(guest.get_by_label("Passcode", exact=True)).to_be_hidden()
