"""A browser and the Python client (aiortc) in one call, whichever of them starts it."""

import re

from playwright.sync_api import Page, expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status
from tests.clients import PythonPeer, run_peercall
from tests.servers import ServerProcess

# Looks like markup on purpose: it must be shown as text, never parsed.
BROWSER_TEXT = "<b>hello</b> from the browser"
PYTHON_TEXT = "hello from <i>Python</i>"


def chat(page: Page, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def assert_python_received_video(peer: PythonPeer) -> None:
    match = peer.wait_for_line(r"^Received (\d+) video frames \((\d+)x(\d+)\)")
    frames, width, height = (int(group) for group in match.groups())
    assert frames > 30, peer.stdout
    assert width > 0, peer.stdout
    assert height > 0, peer.stdout


def test_python_joins_a_call_the_browser_started(server: ServerProcess, new_page, python_peers):
    page = new_page()
    link = start_call(page, server)
    python = python_peers(link, "--test-pattern", "--say", PYTHON_TEXT, "--duration", "6")
    python.wait_for_line("^Connected$")
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)

    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text(PYTHON_TEXT)  # literally, tags and all
    expect(log.locator("i")).to_have_count(0)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    chat(page, BROWSER_TEXT)
    python.wait_for_line("^Message: " + re.escape(BROWSER_TEXT) + "$")

    assert python.wait() == 0, python.stderr
    assert_python_received_video(python)
    expect(status(page)).to_contain_text("left")


def test_browser_joins_a_call_python_started(server: ServerProcess, new_page, python_peers):
    created = run_peercall("new", "--server", server.url)
    assert created.returncode == 0, created.stderr
    link = created.stdout.strip()
    python = python_peers(link, "--test-pattern", "--say", PYTHON_TEXT, "--duration", "6")
    python.wait_for_line("^Waiting for someone to join$")

    page = new_page(phone=True)
    join_call(page, link)
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)
    log = page.get_by_role("log", name="Messages")
    expect(log).to_contain_text(PYTHON_TEXT)
    chat(page, BROWSER_TEXT)
    python.wait_for_line("^Message: " + re.escape(BROWSER_TEXT) + "$")

    assert python.wait() == 0, python.stderr
    assert_python_received_video(python)
    assert "Traceback" not in python.stderr


def test_a_browser_without_camera_permission_watches_a_python_peer(
    server: ServerProcess, new_page, python_peers
):
    # Without media permission Chromium hides its addresses behind mDNS names
    # (xxxx.local) and must still reach the Python side.
    created = run_peercall("new", "--server", server.url)
    link = created.stdout.strip()
    python = python_peers(link, "--test-pattern")
    python.wait_for_line("^Waiting for someone to join$")
    page = new_page(camera_denied=True)
    join_call(page, link)
    expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(page)
    python.wait_for_line("^Connected$")
