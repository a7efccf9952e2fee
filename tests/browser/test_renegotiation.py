"""ICE restarts, alone and crossing each other (glare), end with the call connected.

The test reaches the pages' peer connections through an init script that records
them as they are made (instrumentation of the test, not part of the page), and
holds offers on their way through the WebSocket so that two can be made to cross.
"""

import json
import re

from playwright.sync_api import Page, WebSocketRoute, expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status

RECORD_PEER_CONNECTIONS = """
const Native = window.RTCPeerConnection;
window.__peerConnections = [];
window.RTCPeerConnection = class extends Native {
  constructor(...args) {
    super(...args);
    window.__peerConnections.push(this);
  }
};
"""
ACTIVE = "window.__peerConnections.findLast((pc) => pc.connectionState !== 'closed')"


class OfferGate:
    """Holds renegotiation offers from both pages until both have sent one, then lets
    them go together: each side gets the other's offer while waiting for an answer."""

    def __init__(self) -> None:
        self.armed = False
        self.held: list[tuple[WebSocketRoute, str]] = []
        self.crossed = False

    def route(self, page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()

        def to_server(frame: str | bytes) -> None:
            if self.armed and isinstance(frame, str) and json.loads(frame)["type"] == "offer":
                self.held.append((server_side, frame))
                if len(self.held) == 2:
                    self.crossed = True
                    for side, held in self.held:
                        side.send(held)
                return
            server_side.send(frame)

        page_side.on_message(to_server)


def ice_username_fragment(page: Page) -> str:
    return page.evaluate(f"{ACTIVE}.remoteDescription.sdp.match(/a=ice-ufrag:(\\S+)/)[1]")


def connected_pair(server, new_page, gate: OfferGate | None = None) -> tuple[Page, Page]:
    host, joiner = new_page(), new_page()
    for page in (host, joiner):
        page.add_init_script(RECORD_PEER_CONNECTIONS)
        if gate:
            page.route_web_socket(re.compile(r".*/ws$"), gate.route)
    join_call(joiner, start_call(host, server))
    for page in (host, joiner):
        expect(status(page)).to_have_text("Connected", timeout=20_000)
    return host, joiner


def test_an_ice_restart_renegotiates_and_the_call_goes_on(server, new_page):
    host, joiner = connected_pair(server, new_page)
    before = ice_username_fragment(host)
    joiner.evaluate(f"{ACTIVE}.restartIce()")
    host.wait_for_function(
        f"() => !{ACTIVE}.remoteDescription.sdp.includes('a=ice-ufrag:{before}')"
    )
    for page in (host, joiner):
        expect(status(page)).to_have_text("Connected")
        page.wait_for_function(f"() => {ACTIVE}.signalingState === 'stable'")
    assert_receives_video(host)
    assert_receives_video(joiner)


def test_offers_crossing_each_other_glare_end_connected(server, new_page):
    gate = OfferGate()
    host, joiner = connected_pair(server, new_page, gate)
    host_before, joiner_before = ice_username_fragment(host), ice_username_fragment(joiner)
    gate.armed = True
    for page in (host, joiner):
        page.evaluate(f"{ACTIVE}.restartIce()")
    host.wait_for_timeout(100)  # lets Playwright run the gate's handlers
    joiner.wait_for_function(
        f"() => !{ACTIVE}.remoteDescription.sdp.includes('a=ice-ufrag:{joiner_before}')",
        timeout=20_000,
    )
    assert gate.crossed, "both offers were sent and crossed"
    for page, before in ((host, host_before), (joiner, joiner_before)):
        page.wait_for_function(
            f"() => {ACTIVE}.signalingState === 'stable'"
            f" && !{ACTIVE}.remoteDescription.sdp.includes('a=ice-ufrag:{before}')",
            timeout=20_000,
        )
        expect(status(page)).to_have_text("Connected", timeout=20_000)
    assert_receives_video(host)
    assert_receives_video(joiner)
