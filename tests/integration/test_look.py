"""Looking at a call's open offers before joining, and joining with the answers."""

import pytest

from tests.integration.client import candidate

PASSCODE = "blue-heron-42"


async def host_with_open_offer(server, connect, session="open", **join_fields):
    """A member alone in a new call with an open offer (its SDP, then two candidates)."""
    call_id = server.create_call(**join_fields)
    host = await connect()
    await host.join(call_id, **join_fields)
    await host.send({"type": "offer", "to": "next", "session": session, "sdp": "v=0 open"})
    for n in range(2):
        await host.send(
            {"type": "candidate", "to": "next", "session": session, "candidate": candidate(n)}
        )
    assert await host.drain() == []
    return call_id, host


async def look(client, call_id, **fields):
    await client.send({"type": "look", "call_id": call_id, **fields})
    return await client.expect("looked")


async def test_an_answer_made_before_joining_reaches_the_member_with_the_join(server, connect):
    call_id, host = await host_with_open_offer(server, connect)
    guest = await connect()
    looked = await look(guest, call_id)
    assert looked == {
        "type": "looked",
        "call_id": call_id,
        "offers": [{"type": "offer", "from": host.peer_id, "session": "open", "sdp": "v=0 open"}],
        "ice_servers": [],  # this server has none configured
    }
    assert await host.drain() == []  # looking is not joining: nobody is told

    answer = {"to": host.peer_id, "session": "open", "sdp": "v=0 answer"}
    joined = await guest.join(call_id, answers=[answer])
    assert joined["answered"] == [host.peer_id]
    # What the open offer held after its SDP follows `joined`; the offer itself not again.
    after = await guest.drain()
    assert [m["candidate"] for m in after] == [candidate(0), candidate(1)]
    # The host hears of the guest and gets the answer, in that order, together.
    notice, relayed = await host.expect("peer-joined"), await host.expect("answer")
    assert notice["peer_id"] == guest.peer_id
    assert notice["open_offer_session"] == "open"
    assert relayed == {
        "type": "answer",
        "from": guest.peer_id,
        "session": "open",
        "sdp": "v=0 answer",
    }
    # From here on it is an ordinary call: signals both ways.
    await guest.send(
        {"type": "candidate", "to": host.peer_id, "session": "open", "candidate": candidate(5)}
    )
    assert await guest.drain() == []  # (the server has handled the candidate)
    await host.send({"type": "end-of-candidates", "to": "next", "session": "open"})
    assert [m["candidate"] for m in await host.drain()] == [candidate(5)]
    assert [m["type"] for m in await guest.drain()] == ["end-of-candidates"]


async def test_an_answer_to_a_replaced_offer_is_let_go_and_the_new_offer_comes_instead(
    server, connect
):
    call_id, host = await host_with_open_offer(server, connect, session="first")
    guest = await connect()
    await look(guest, call_id)
    # The host replaces its open offer between the look and the join.
    await host.send({"type": "offer", "to": "next", "session": "second", "sdp": "v=0 new"})
    # (handled before the join: the two sockets' messages are in no order otherwise)
    assert await host.drain() == []
    answer = {"to": host.peer_id, "session": "first", "sdp": "v=0 stale"}
    joined = await guest.join(call_id, answers=[answer])
    assert "answered" not in joined
    assert await guest.drain() == [
        {"type": "offer", "from": host.peer_id, "session": "second", "sdp": "v=0 new"}
    ]
    notice = await host.expect("peer-joined")
    assert notice["open_offer_session"] == "second"
    assert await host.drain() == []  # the stale answer went nowhere


async def test_an_open_offer_taken_by_someone_else_is_not_answered_twice(server, connect):
    call_id, host = await host_with_open_offer(server, connect)
    first, second = await connect(), await connect()
    await look(first, call_id)
    await look(second, call_id)
    answer = {"to": host.peer_id, "session": "open", "sdp": "v=0 answer"}
    assert (await first.join(call_id, answers=[answer]))["answered"] == [host.peer_id]
    # The second comes to a call of two now, with an answer to the offer the first took.
    joined = await second.join(call_id, answers=[{**answer, "sdp": "v=0 late"}])
    assert "answered" not in joined
    to_host = await host.drain()
    assert [m["type"] for m in to_host] == ["peer-joined", "answer", "peer-joined"]
    assert to_host[1]["from"] == first.peer_id
    assert "open_offer_session" not in to_host[2]


async def test_looking_needs_what_joining_needs(server, connect):
    call_id, host = await host_with_open_offer(server, connect, passcode=PASSCODE)
    guest = await connect()
    await guest.send({"type": "look", "call_id": call_id})
    await guest.expect_error("passcode-required")
    await guest.send({"type": "look", "call_id": call_id, "passcode": "wrong"})
    await guest.expect_error("wrong-passcode")
    await guest.send({"type": "look", "call_id": "A" * 22})
    await guest.expect_error("call-not-found")
    assert len((await look(guest, call_id, passcode=PASSCODE))["offers"]) == 1
    # A member has nothing to look at.
    await host.send({"type": "look", "call_id": call_id, "passcode": PASSCODE})
    await host.expect_error("already-in-call")


async def test_looking_into_a_full_call_says_so(server, connect):
    call_id = server.create_call()
    members = [await connect() for _ in range(6)]  # the default capacity
    for member in members:
        await member.join(call_id)
    stranger = await connect()
    await stranger.send({"type": "look", "call_id": call_id})
    await stranger.expect_error("call-full")


@pytest.mark.parametrize(
    ("answers", "code"),
    [
        pytest.param(
            [{"to": "A" * 16, "session": "s", "sdp": "v=0"}] * 2, "invalid-message", id="twice"
        ),
        pytest.param([{"to": "A" * 16, "session": "s", "sdp": ""}], "invalid-message", id="no-sdp"),
        pytest.param(
            [{"to": "next", "session": "s", "sdp": "v=0"}], "invalid-message", id="to-next"
        ),
        pytest.param(
            [{"to": f"{n:016d}", "session": "s", "sdp": "v=0"} for n in range(17)],
            "invalid-message",
            id="too-many",
        ),
    ],
)
async def test_bad_answers_in_a_join_are_refused_and_the_call_goes_on(
    server, connect, answers, code
):
    call_id, host = await host_with_open_offer(server, connect)
    guest = await connect()
    await guest.send({"type": "join", "call_id": call_id, "answers": answers})
    await guest.expect_error(code)
    assert await host.drain() == []  # nobody joined
    # The open offer is still there for the guest's proper join.
    await guest.join(call_id)
    assert (await guest.expect("offer"))["session"] == "open"
