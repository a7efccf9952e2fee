"""The joiner's page answers the open offer before Join is pressed, and joins with the
answer; an answer made for an offer that is gone by then is let go, and the call is
set up the usual way."""

import json
import re
import time

from playwright.sync_api import Page, WebSocketRoute, expect
from websockets.sync.client import connect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status
from tests.clients import run_peercall


def record_sent_messages(page: Page) -> list[dict]:
    """Every message the page sends on its WebSocket, from now on."""
    sent: list[dict] = []
    page.on(
        "websocket",
        lambda socket: socket.on("framesent", lambda payload: sent.append(json.loads(payload))),
    )
    return sent


def test_the_answer_goes_with_the_join(server, new_page):
    host, guest = new_page(), new_page(phone=True)
    link = start_call(host, server)
    sent = record_sent_messages(guest)
    join_call(guest, link)
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(guest)
    assert_receives_video(host)
    kinds = [message["type"] for message in sent]
    assert kinds.index("look") < kinds.index("join")
    (join,) = [message for message in sent if message["type"] == "join"]
    (answer,) = join["answers"]
    assert answer["sdp"].startswith("v=0")
    # Made before Join, sent with it: no answer of its own afterwards.
    assert "answer" not in kinds


# Every candidate the page gives its peer connections, as (sdpMLineIndex, text).
RECORD_ADDED_CANDIDATES = """
window.__added = [];
const add = RTCPeerConnection.prototype.addIceCandidate;
RTCPeerConnection.prototype.addIceCandidate = function (candidate, ...rest) {
  if (candidate?.candidate) window.__added.push([candidate.sdpMLineIndex, candidate.candidate]);
  return add.call(this, candidate, ...rest);
};
"""


def wait_for_open_offer(server, call_id: str) -> dict:
    """The open offer a newcomer would see (looked at without joining), once there."""
    with connect(server.ws_url) as looker:
        for _ in range(100):
            looker.send(json.dumps({"type": "look", "call_id": call_id}))
            looked = json.loads(looker.recv(5))
            if looked["offers"]:
                return looked["offers"][0]
            time.sleep(0.05)
    raise AssertionError("no open offer")


def test_only_the_candidates_of_the_bundled_transport_are_given_to_ice(
    server, new_page, python_peers
):
    # A Python (aiortc) host's open offer names its addresses once per media section
    # (audio, video, chat); the answer bundles them all on the first one, so only its
    # candidates are worth checking.
    created = run_peercall("new", "--server", server.url)
    link = created.stdout.strip()
    python_peers(link, "--test-pattern")
    offer = wait_for_open_offer(server, link.rsplit("/", 1)[1])
    sections = offer["sdp"].split("\r\nm=")[1:]
    assert all("a=candidate:" in section for section in sections), "per section"
    guest = new_page()
    guest.add_init_script(RECORD_ADDED_CANDIDATES)
    join_call(guest, link)
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    added = guest.evaluate("window.__added")
    assert added, "the host's candidates were given to ICE"
    assert {index for index, _ in added} == {0}, added
    assert len({text for _, text in added}) == len(added), "none twice"


def test_the_open_offer_names_its_addresses_once(server, new_page):
    # Audio, video and chat share one transport from the start (max-bundle): the
    # host gathers one set of addresses, and its offer names them once.
    host = new_page()
    sent = record_sent_messages(host)
    start_call(host, server)
    offers = [message for message in sent if message["type"] == "offer"]
    for _ in range(50):
        if offers:
            break
        host.wait_for_timeout(100)  # the open offer waits for its candidates (< 2 s)
        offers = [message for message in sent if message["type"] == "offer"]
    (offer,) = offers
    first, *others = offer["sdp"].split("\r\nm=")[1:]
    assert "a=candidate:" in first
    assert len(others) == 2  # video, chat
    for section in others:
        assert "a=candidate:" not in section


def test_an_answer_to_an_offer_taken_meanwhile_is_let_go(server, new_page):
    host, guest = new_page(), new_page()
    link = start_call(host, server)
    sent = record_sent_messages(guest)
    guest.goto(link)
    expect(status(guest)).to_have_text("Ready to join")
    # Somebody else takes the open offer the guest has answered, and leaves.
    call_id = link.rsplit("/", 1)[1]
    with connect(server.ws_url) as intruder:
        intruder.send(json.dumps({"type": "join", "call_id": call_id}))
        assert json.loads(intruder.recv(5))["type"] == "joined"
        intruder.send(json.dumps({"type": "leave"}))
        while json.loads(intruder.recv(5))["type"] != "left":
            pass
    expect(status(host)).to_contain_text("Waiting for someone to join")
    guest.get_by_role("button", name="Join").click()
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(guest)
    assert_receives_video(host)
    (join,) = [message for message in sent if message["type"] == "join"]
    assert len(join["answers"]) == 1  # the stale one
    # Answered again, the usual way, to the offer the host made after.
    assert [message["type"] for message in sent].count("answer") == 1


# Whether a peer connection of the page has been connected.
RECORD_CONNECTED = """
window.__connected = false;
const Original = RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new Original(...args);
  pc.addEventListener("connectionstatechange", () => {
    if (pc.connectionState === "connected") window.__connected = true;
  });
  return pc;
};
window.RTCPeerConnection.prototype = Original.prototype;
"""


# Whether a data channel of the page has opened, and whether a media state has come
# over one.
RECORD_CHANNEL = """
window.__channelOpen = false;
window.__mediaStateHeard = false;
window.__chatHeard = false;
const createDataChannel = RTCPeerConnection.prototype.createDataChannel;
RTCPeerConnection.prototype.createDataChannel = function (...args) {
  const channel = createDataChannel.apply(this, args);
  channel.addEventListener("open", () => { window.__channelOpen = true; });
  channel.addEventListener("message", ({ data }) => {
    if (typeof data === "string" && data.includes('"media-state"')) {
      window.__mediaStateHeard = true;
    }
    if (typeof data === "string" && data.includes("before joined")) {
      window.__chatHeard = true;
    }
  });
  return channel;
};
"""


def hold_joined(page: Page) -> tuple[list[str | bytes], list[bool], list[WebSocketRoute]]:
    """From `joined` on, what the server sends `page` is held (the frames, whether still
    holding, the routes): the page has sent its join, the server has answered."""
    held: list[str | bytes] = []
    holding = [True]
    routes: list[WebSocketRoute] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        routes.append(page_side)

        def from_server(frame: str | bytes) -> None:
            if holding[0] and (held or json.loads(frame)["type"] == "joined"):
                held.append(frame)
            else:
                page_side.send(frame)

        server_side.on_message(from_server)
        page_side.on_message(server_side.send)

    page.route_web_socket(re.compile(r".*/ws$"), route)
    return held, holding, routes


def release(held: list[str | bytes], holding: list[bool], routes: list[WebSocketRoute]) -> None:
    holding[0] = False
    for frame in held:
        routes[-1].send(frame)


def test_chat_and_the_hosts_marks_work_when_the_channel_opened_before_joined(server, new_page):
    # As below, on a busy phone: this time the data channel is open, and the host's
    # media state (muted) and a chat message have come over it, before the guest's
    # page handles `joined` (which tells it who the host is).
    host, guest = new_page(), new_page()
    host.goto(server.url)
    host.get_by_role("textbox", name="Your name").fill("Hana")
    host.get_by_role("button", name="New call").click()
    expect(status(host)).to_have_text("Waiting for someone to join")
    link = host.get_by_role("textbox", name="Call link").input_value()
    host.get_by_role("button", name="Mute").click()
    expect(host.get_by_role("button", name="Unmute")).to_be_visible()
    held, holding, routes = hold_joined(guest)
    guest.add_init_script(RECORD_CHANNEL)
    join_call(guest, link)
    guest.wait_for_function(
        "() => window.__channelOpen && window.__mediaStateHeard", timeout=20_000
    )
    host.get_by_role("textbox", name="Message").fill("said before joined")
    host.get_by_role("button", name="Send", exact=True).click()
    guest.wait_for_function("() => window.__chatHeard", timeout=10_000)
    release(held, holding, routes)
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    messages = guest.get_by_role("log", name="Messages")
    expect(messages).to_contain_text("said before joined")
    expect(messages).to_contain_text("Hana ·")
    expect(guest.get_by_role("button", name="Send", exact=True)).to_be_enabled(timeout=10_000)
    expect(guest.get_by_text("Their microphone is muted")).to_be_visible()
    guest.get_by_role("textbox", name="Message").fill("over the early channel")
    guest.get_by_role("button", name="Send", exact=True).click()
    expect(host.get_by_role("log", name="Messages")).to_contain_text("over the early channel")


def test_a_call_connected_before_joined_is_handled_shows_connected(server, new_page):
    # On a busy phone the member's ICE checks and DTLS can be through before the page
    # handles `joined` (the member had the answer at once). Here `joined`, and all
    # after it, reach the guest's page only once its peer connection is up.
    host, guest = new_page(), new_page()
    link = start_call(host, server)
    held, holding, routes = hold_joined(guest)
    guest.add_init_script(RECORD_CONNECTED)
    join_call(guest, link)
    expect(status(host)).to_have_text("Connected", timeout=20_000)
    guest.wait_for_function("() => window.__connected", timeout=20_000)
    release(held, holding, routes)
    expect(status(guest)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(guest)
