"""The call goes on when the signaling connection drops, and signaling comes back."""

import json
import re
import sqlite3

import pytest
from playwright.sync_api import WebSocketRoute, expect

from peercall.server.store import call_key
from tests.browser.test_call import assert_receives_video, join_call, start_call, status

LOST = "Connection to the server lost. Reconnecting…"


def test_a_server_restart_mid_call_keeps_the_media_and_the_call_resumes(server, new_page):
    first, second = new_page(), new_page(phone=True)
    link = start_call(first, server)
    join_call(second, link)
    for page in (first, second):
        expect(status(page)).to_have_text("Connected", timeout=20_000)

    server.stop()
    for page in (first, second):
        expect(status(page)).to_have_text(LOST)
    assert_receives_video(first)  # peer to peer: the media does not need the server
    assert_receives_video(second)

    server.start()
    for page in (first, second):
        expect(status(page)).to_have_text("Connected", timeout=30_000)
    # Signaling works again, for the same two people: a hang-up reaches the other.
    second.get_by_role("button", name="Hang up").click()
    expect(status(first)).to_contain_text("left")
    server.stop()
    call_id = link.rsplit("/", 1)[1]
    with sqlite3.connect(server.data_dir / "peercall.sqlite3") as db:
        kinds = [
            kind
            for (kind,) in db.execute(
                "SELECT kind FROM call_events WHERE call_key = ? ORDER BY seq", (call_key(call_id),)
            )
        ]
    # Nothing of the call's history lost across the restart.
    assert kinds == ["created", "join", "join", "resume", "resume", "leave"]


@pytest.mark.parametrize("looks_in", [True, False], ids=["answer-made-ahead", "answer-after-join"])
def test_a_dropped_socket_mid_negotiation_loses_and_doubles_no_candidate(
    server, new_page, looks_in
):
    """The socket drops right after the joiner got the host's offer: in `looked`
    (its answer then goes with the join, and the drop comes after `joined`), or
    after `joined` when it did not look in first (then its answer has not gone out)."""
    host, joiner = new_page(), new_page()
    host_sent: list[dict] = []
    host.on(
        "websocket",
        lambda socket: socket.on("framesent", lambda frame: host_sent.append(json.loads(frame))),
    )
    link = start_call(host, server)

    delivered: list[dict] = []  # what the joiner's page got, across its connections
    connections: list[int] = []

    def route(page_side: WebSocketRoute) -> None:
        server_side = page_side.connect_to_server()
        first = not connections
        connections.append(1)
        dropped = [False]

        def from_server(frame: str | bytes) -> None:
            if dropped[0]:
                return  # sent by the server, never reaches the page
            message = json.loads(frame)
            delivered.append(message)
            page_side.send(frame)
            if first and message["type"] == ("joined" if looks_in else "offer"):
                # The network drops right after it: what follows (the end of
                # candidates) is lost on the way.
                dropped[0] = True
                page_side.close()
                server_side.close()

        def from_page(frame: str | bytes) -> None:
            if dropped[0]:
                return
            if not looks_in and json.loads(frame)["type"] == "look":
                # As if the server could not show the offers: the page joins as usual.
                page_side.send(
                    json.dumps({"type": "error", "code": "internal-error", "message": "-"})
                )
                return
            server_side.send(frame)

        server_side.on_message(from_server)
        page_side.on_message(from_page)

    joiner.route_web_socket(re.compile(r".*/ws$"), route)
    join_call(joiner, link)
    for page in (host, joiner):
        expect(status(page)).to_have_text("Connected", timeout=30_000)
    assert_receives_video(joiner)
    assert_receives_video(host)
    assert len(connections) >= 2, "the socket was dropped and the page came back"

    numbered = [m["seq"] for m in delivered if "seq" in m]
    assert numbered == sorted(set(numbered)), "no message twice, none out of order"
    # The host's peer connection with the joiner (once the call is up, the host also
    # prepares an open offer for whoever comes next: not the joiner's business).
    offers = [o for m in delivered if m["type"] == "looked" for o in m["offers"]]
    offers += [m for m in delivered if m["type"] == "offer"]
    session = offers[0]["session"]

    def candidates(messages: list[dict]) -> list[str]:
        return [
            m["candidate"]["candidate"]
            for m in messages
            if m["type"] == "candidate" and m["session"] == session
        ]

    # The open offer carries the candidates found before it was sent in its SDP;
    # any found later, and the end of them, follow it and must all arrive once.
    offer = offers[0]
    assert "a=candidate:" in offer["sdp"]
    sent, got = candidates(host_sent), candidates(delivered)
    assert sorted(got) == sorted(sent)  # every candidate sent, each exactly once
    ends = [m for m in delivered if m["type"] == "end-of-candidates" and m["session"] == session]
    assert len(ends) == 1
