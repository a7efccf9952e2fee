"""Malformed and hostile messages get an error reply and break nothing beside them."""

import json

import pytest

from tests.integration.client import candidate

MAX_MESSAGE_BYTES = 64 * 1024


async def start_call(server, connect):
    call_id = server.create_call()
    alice, bob = await connect(), await connect()
    await alice.join(call_id)
    await bob.join(call_id)
    await alice.expect("peer-joined")
    return call_id, alice, bob


async def assert_call_still_relays(alice, bob, session="check"):
    await alice.send({"type": "offer", "to": bob.peer_id, "session": session, "sdp": "v=0 ok"})
    await alice.send(
        {"type": "candidate", "to": bob.peer_id, "session": session, "candidate": candidate(7)}
    )
    await alice.drain()
    received = await bob.drain()
    assert [m["type"] for m in received] == ["offer", "candidate"]
    assert received[1]["candidate"] == candidate(7)


BAD_FRAMES = [
    pytest.param("{not json", "bad-json", id="malformed-json"),
    pytest.param("", "bad-json", id="empty-frame"),
    pytest.param(b"\xff\xfe\x00garbage", "bad-json", id="binary-garbage"),
    pytest.param("[1, 2, 3]", "invalid-message", id="not-an-object"),
    pytest.param('{"no_type": 1}', "invalid-message", id="missing-type"),
    pytest.param('{"type": "explode"}', "unknown-type", id="unknown-type"),
    pytest.param('{"type": 42}', "invalid-message", id="type-not-a-string"),
    pytest.param('{"type": "join", "call_id": "../../etc"}', "invalid-message", id="bad-call-id"),
    pytest.param(
        json.dumps({"type": "join", "call_id": "A" * 22}), "call-not-found", id="unknown-call"
    ),
    pytest.param(
        json.dumps({"type": "offer", "to": "x", "session": "s", "sdp": "v=0"}),
        "invalid-message",
        id="bad-recipient",
    ),
    pytest.param(
        json.dumps({"type": "offer", "to": "next", "session": "s", "sdp": "v=0", "extra": 1}),
        "invalid-message",
        id="unknown-field",
    ),
    pytest.param(
        json.dumps({"type": "candidate", "to": "next", "session": "s", "candidate": {}}),
        "invalid-message",
        id="candidate-without-candidate",
    ),
    pytest.param(
        json.dumps({"type": "offer", "to": "next", "session": "s", "sdp": "x" * MAX_MESSAGE_BYTES}),
        "message-too-large",
        id="oversized",
    ),
]


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_a_bad_frame_from_a_stranger_gets_an_error_and_the_call_goes_on(
    server, connect, frame, code
):
    _, alice, bob = await start_call(server, connect)
    stranger = await connect()
    await stranger.send(frame)
    await stranger.expect_error(code)
    await stranger.send({"type": "ping"})
    await stranger.expect("pong")  # the stranger's own connection still works
    await assert_call_still_relays(alice, bob)


@pytest.mark.parametrize(("frame", "code"), BAD_FRAMES)
async def test_a_bad_frame_from_a_member_does_not_break_its_own_call(server, connect, frame, code):
    _, alice, bob = await start_call(server, connect)
    await alice.send(frame)
    # A member that sends a join is already in a call: that is the error it gets.
    expected = "already-in-call" if code == "call-not-found" else code
    await alice.expect_error(expected)
    await assert_call_still_relays(alice, bob)


async def test_signals_need_a_call_and_a_real_recipient(server, connect):
    call_id, alice, bob = await start_call(server, connect)
    outsider = await connect()
    await outsider.send({"type": "offer", "to": alice.peer_id, "session": "s", "sdp": "v=0"})
    await outsider.expect_error("not-in-call")
    await outsider.send({"type": "leave"})
    await outsider.expect_error("not-in-call")

    other_call = server.create_call()
    mallory = await connect()
    await mallory.join(other_call)
    # A peer id of another call is nobody in this one.
    await mallory.send({"type": "offer", "to": alice.peer_id, "session": "s", "sdp": "v=0"})
    await mallory.expect_error("unknown-peer")
    await alice.send({"type": "offer", "to": alice.peer_id, "session": "s", "sdp": "v=0"})
    await alice.expect_error("unknown-peer")
    await alice.send(
        {"type": "candidate", "to": "next", "session": "nope", "candidate": candidate(1)}
    )
    await alice.expect_error("no-open-offer")
    await alice.send({"type": "join", "call_id": call_id})
    await alice.expect_error("already-in-call")
    await assert_call_still_relays(alice, bob)
    assert await mallory.drain() == []


async def test_a_frame_far_over_the_limit_closes_only_that_connection(server, connect):
    _, alice, bob = await start_call(server, connect)
    flooder = await connect()
    await flooder.send("x" * (MAX_MESSAGE_BYTES * 5))
    with pytest.raises(Exception, match=r"1009|message too big|closed"):
        await flooder.receive()
    await assert_call_still_relays(alice, bob)
