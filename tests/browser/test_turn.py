"""Calls through a real TURN relay (coturn) with credentials peercall makes."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_call import assert_receives_video, chat, join_call, start_call, status
from tests.turn import TurnServer, relay_only_server


@pytest.fixture
def turn(tmp_path: Path):
    server = TurnServer(tmp_path / "turn").start()
    yield server
    server.stop()


def test_two_browsers_talk_through_the_relay(tmp_path, turn, new_page):
    server = relay_only_server(tmp_path, turn)
    try:
        first, second = new_page(), new_page(phone=True)
        join_call(second, start_call(first, server))
        for page in (first, second):
            expect(status(page)).to_have_text("Connected", timeout=30_000)
        assert_receives_video(second)
        assert_receives_video(first)
        first.get_by_role("button", name="Call statistics").click()
        route = first.locator("#stat-route")
        expect(route).to_have_text(re.compile(r"^relayed \(TURN\): relay ↔ "), timeout=10_000)
        assert turn.secret not in server.log()  # secrets never logged
    finally:
        server.stop()


def test_a_wrong_turn_secret_is_refused_and_the_page_says_so(tmp_path, turn, new_page):
    server = relay_only_server(tmp_path, turn, secret="not-the-secret")
    try:
        first, second = new_page(), new_page()
        join_call(second, start_call(first, server))
        for page in (first, second):
            expect(page.get_by_role("alert")).to_contain_text(
                "relay server (TURN) refused", timeout=20_000
            )
        expect(status(first)).not_to_have_text("Connected")
    finally:
        server.stop()


def test_a_browser_and_the_python_client_talk_through_the_relay(
    tmp_path, turn, new_page, python_peers
):
    server = relay_only_server(tmp_path, turn)
    try:
        page = new_page()
        link = start_call(page, server)
        python = python_peers(link, "--test-pattern", "--duration", "5")
        python.wait_for_line("^Connected$", timeout=30)
        expect(status(page)).to_have_text("Connected", timeout=30_000)
        assert_receives_video(page)
        page.get_by_role("button", name="Call statistics").click()
        expect(page.locator("#stat-route")).to_have_text(
            re.compile(r"^relayed \(TURN\): relay ↔ "), timeout=10_000
        )
        assert python.wait() == 0, python.stderr
        frames = int(python.wait_for_line(r"^Received (\d+) video frames").group(1))
        assert frames > 30, python.stdout
    finally:
        server.stop()


# Keeps every RTCPeerConnection the page makes, to read their configuration.
KEEP_PEER_CONNECTIONS = """
const kept = [];
Object.defineProperty(window, "keptPeerConnections", { value: kept });
const Original = RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Original(...args);
  kept.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = Original.prototype;
"""
# The TURN username of each open peer connection ("<expiry>:<peer id>").
TURN_USERNAMES = """() => window.keptPeerConnections
    .filter((pc) => pc.signalingState !== "closed")
    .map((pc) => pc.getConfiguration().iceServers.find((server) => server.username).username)"""


def test_someone_who_comes_after_the_credentials_expired_still_gets_through(
    tmp_path, turn, new_page
):
    """coturn keeps a relay made in time, but refuses new ones once a credential has
    expired: the page used the credentials of its `joined` for good, so whoever came
    later than they lasted (an hour by default) could not reach it through the relay,
    and the page said the relay refused it. It renews them before they expire."""
    server = relay_only_server(tmp_path, turn, PEERCALL_TURN_CREDENTIAL_SECONDS="10")
    try:
        host, guest = new_page(), new_page()
        host.add_init_script(KEEP_PEER_CONNECTIONS)
        link = start_call(host, server)
        expect(status(host)).to_have_text("Waiting for someone to join")
        (first_username,) = host.evaluate(TURN_USERNAMES)
        host.wait_for_timeout(12_000)  # the credentials of its `joined` have expired
        # The peer connection made then has the new ones too, for an ICE restart.
        (renewed_username,) = host.evaluate(TURN_USERNAMES)
        assert int(renewed_username.split(":")[0]) > int(first_username.split(":")[0])
        join_call(guest, link)
        for page in (host, guest):
            expect(status(page)).to_have_text("Connected", timeout=30_000)
        # Leaving and coming back needs a relay made now, with fresh credentials.
        guest.get_by_role("button", name="Hang up").click()
        expect(status(host)).to_contain_text("Everybody else left")
        guest.get_by_role("button", name="Join").click()
        for page in (host, guest):
            expect(status(page)).to_have_text("Connected", timeout=30_000)
        assert_receives_video(guest)
        expect(host.get_by_role("alert")).to_be_hidden()  # nothing was refused
    finally:
        server.stop()


def test_a_browser_and_python_connect_again_after_the_relay_restarts(
    tmp_path, turn, new_page, python_peers
):
    """The relays the call went through are gone. The page restarts ICE, which aiortc
    cannot take part in; the Python side takes the restart as the sign that the path
    broke and replaces its peer connection with a new one, which the page takes in
    place of the old."""
    server = relay_only_server(tmp_path, turn)
    try:
        page = new_page()
        link = start_call(page, server)
        python = python_peers(link, "--test-pattern", "--say", "hello from python")
        expect(status(page)).to_have_text("Connected", timeout=30_000)
        python.wait_for_line("^Connected$", timeout=30)
        log = page.get_by_role("log", name="Messages")
        expect(log).to_contain_text("hello from python")
        chat(page, "before the break")
        python.wait_for_line("^Message: before the break$", timeout=30)
        turn.stop()
        turn.start()  # same address and secret, no allocation left
        expect(status(page)).to_have_text("Reconnecting", timeout=30_000)
        # The page restarts ICE 3 or 7 s after it shows "Reconnecting". Left to itself,
        # aiortc would notice the path gone only when 6 consent checks, 4-6 s apart,
        # had gone unanswered: 24 s or more after the relay went, about 20 s after
        # the page noticed.
        python.wait_for_line("^Reconnecting$", timeout=14)
        expect(status(page)).to_have_text("Connected", timeout=60_000)
        assert_receives_video(page, within_seconds=10)
        assert python.stdout.count("Connected\n") == 2, python.stdout
        # Both sent their messages again on the new channel; each side shows them once.
        chat(page, "after the break")
        python.wait_for_line("^Message: after the break$", timeout=30)
        assert python.stdout.count("before the break") == 1, python.stdout
        expect(log.locator("li", has_text="hello from python")).to_have_count(1)
    finally:
        server.stop()
