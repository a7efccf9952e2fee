"""Offers, answers and every ICE candidate go through a real server, in order, once."""

from functools import partial

from tests.conftest import ONE_TO_ONE
from tests.integration.client import TestClient, candidate
from tests.servers import ServerProcess


async def test_offer_answer_and_candidates_are_relayed_in_order(server, connect):
    call_id = server.create_call()
    alice, bob = await connect(), await connect()
    await alice.join(call_id)
    joined = await bob.join(call_id)
    assert [p["peer_id"] for p in joined["peers"]] == [alice.peer_id]
    assert (await alice.expect("peer-joined"))["peer_id"] == bob.peer_id

    session = "s1"
    sent = [{"type": "offer", "to": bob.peer_id, "session": session, "sdp": "v=0 offer"}]
    sent += [
        {"type": "candidate", "to": bob.peer_id, "session": session, "candidate": candidate(n)}
        for n in range(20)
    ]
    sent.append({"type": "end-of-candidates", "to": bob.peer_id, "session": session})
    for message in sent:
        await alice.send(message)
    await alice.drain()
    received = await bob.drain()
    assert received == [
        {**{k: v for k, v in m.items() if k != "to"}, "from": alice.peer_id} for m in sent
    ]

    await bob.send({"type": "answer", "to": alice.peer_id, "session": session, "sdp": "v=0 a"})
    for n in range(5):
        await bob.send(
            {
                "type": "candidate",
                "to": alice.peer_id,
                "session": session,
                "candidate": candidate(n),
            }
        )
    await bob.drain()
    back = await alice.drain()
    assert [m["type"] for m in back] == ["answer"] + ["candidate"] * 5
    assert [m["candidate"] for m in back[1:]] == [candidate(n) for n in range(5)]
    assert all(m["from"] == bob.peer_id and m["session"] == session for m in back)


async def test_candidates_sent_before_the_peer_joins_all_arrive_after_it_joins(server, connect):
    call_id = server.create_call()
    alice = await connect()
    await alice.join(call_id)
    await alice.send({"type": "offer", "to": "next", "session": "open", "sdp": "v=0 early"})
    for n in range(30):
        await alice.send(
            {"type": "candidate", "to": "next", "session": "open", "candidate": candidate(n)}
        )
    assert await alice.drain() == []  # held by the server, nobody to send them to yet

    bob = await connect()
    await bob.send({"type": "join", "call_id": call_id})
    await bob.expect("joined")
    offer = await bob.expect("offer")
    assert offer == {"type": "offer", "from": alice.peer_id, "session": "open", "sdp": "v=0 early"}
    early = [await bob.expect("candidate") for _ in range(30)]
    assert [m["candidate"] for m in early] == [candidate(n) for n in range(30)]

    notice = await alice.expect("peer-joined")
    assert notice["open_offer_session"] == "open"

    # Candidates the offerer still sends to "next" now go to whoever took the offer.
    await alice.send(
        {"type": "candidate", "to": "next", "session": "open", "candidate": candidate(99)}
    )
    await alice.send({"type": "end-of-candidates", "to": "next", "session": "open"})
    await alice.drain()
    late = await bob.drain()
    assert [m["type"] for m in late] == ["candidate", "end-of-candidates"]
    assert late[0]["candidate"] == candidate(99)


async def test_a_newcomer_gets_only_the_newest_open_offer(server, connect):
    call_id = server.create_call()
    alice = await connect()
    await alice.join(call_id)
    await alice.send({"type": "offer", "to": "next", "session": "old", "sdp": "v=0 old"})
    await alice.send(
        {"type": "candidate", "to": "next", "session": "old", "candidate": candidate(1)}
    )
    await alice.send({"type": "offer", "to": "next", "session": "new", "sdp": "v=0 new"})
    await alice.drain()

    bob = await connect()
    await bob.join(call_id)
    received = await bob.drain()
    assert received == [
        {"type": "offer", "from": alice.peer_id, "session": "new", "sdp": "v=0 new"}
    ]


async def test_leaving_and_disconnecting_are_announced(tmp_path):
    # A dropped connection keeps its place for `resume_seconds`; then it is gone.
    server = ServerProcess(tmp_path / "data", env={"PEERCALL_RESUME_SECONDS": "0.3"}).start()
    try:
        await leave_and_disconnect(server)
    finally:
        server.stop()


async def leave_and_disconnect(server):
    connect = partial(TestClient.connect, server.ws_url)
    call_id = server.create_call()
    alice, bob = await connect(), await connect()
    await alice.join(call_id)
    await bob.join(call_id)
    await alice.expect("peer-joined")
    await bob.send({"type": "leave"})
    assert (await bob.expect("left"))["call_id"] == call_id
    left = await alice.expect("peer-left")
    assert left == {"type": "peer-left", "peer_id": bob.peer_id, "reason": "left"}

    carol = await connect()
    await carol.join(call_id)
    await alice.expect("peer-joined")
    await carol.close()
    gone = await alice.expect("peer-left")
    assert gone["peer_id"] == carol.peer_id
    assert gone["reason"] == "disconnected"
    for client in (alice, bob):
        await client.close()


@ONE_TO_ONE
async def test_a_third_member_is_refused_and_the_call_goes_on(server, connect):
    call_id = server.create_call()
    alice, bob, carol = await connect(), await connect(), await connect()
    await alice.join(call_id)
    await bob.join(call_id)
    await carol.send({"type": "join", "call_id": call_id})
    await carol.expect_error("call-full")

    await alice.send({"type": "offer", "to": bob.peer_id, "session": "s", "sdp": "v=0"})
    await alice.drain()
    assert [m["type"] for m in await bob.drain()] == ["offer"]


async def test_a_group_call_takes_six_and_refuses_the_seventh(server, connect):
    call_id = server.create_call()
    members = [await connect() for _ in range(6)]
    for count, member in enumerate(members):
        joined = await member.join(call_id, name=f"person {count}")
        assert joined["capacity"] == 6
        assert [p["name"] for p in joined["peers"]] == [f"person {n}" for n in range(count)]
    seventh = await connect()
    await seventh.send({"type": "join", "call_id": call_id})
    await seventh.expect_error("call-full")
    # Everybody heard of everybody who came after them, in order.
    for index, member in enumerate(members):
        notices = await member.drain()
        assert [(m["type"], m["name"]) for m in notices] == [
            ("peer-joined", f"person {n}") for n in range(index + 1, 6)
        ]


async def test_names_reach_others_without_characters_that_pass_for_something_else(server, connect):
    call_id = server.create_call()
    alice, bob = await connect(), await connect()
    await alice.join(call_id, name="Alice\u202e nhoJ\n")
    joined = await bob.join(call_id, name="\u2067Bob\u200b  Smith\u2069")
    assert [peer["name"] for peer in joined["peers"]] == ["Alice nhoJ"]
    assert (await alice.expect("peer-joined"))["name"] == "Bob Smith"


async def test_a_newcomer_gets_every_members_open_offer_and_each_pair_talks(server, connect):
    call_id = server.create_call()
    alice, bob, carol = await connect(), await connect(), await connect()
    await alice.join(call_id)
    await bob.join(call_id)
    await alice.drain()
    # Alice and Bob are in a call; each prepares a peer connection for whoever is next.
    for member, session in ((alice, "a-next"), (bob, "b-next")):
        await member.send({"type": "offer", "to": "next", "session": session, "sdp": "v=0"})
        await member.send(
            {"type": "candidate", "to": "next", "session": session, "candidate": candidate(1)}
        )
        assert await member.drain() == []

    await carol.join(call_id)
    handed = await carol.drain()
    assert sorted((m["type"], m["from"], m["session"]) for m in handed) == sorted(
        [
            ("offer", alice.peer_id, "a-next"),
            ("candidate", alice.peer_id, "a-next"),
            ("offer", bob.peer_id, "b-next"),
            ("candidate", bob.peer_id, "b-next"),
        ]
    )
    for member, session in ((alice, "a-next"), (bob, "b-next")):
        notice = await member.expect("peer-joined")
        assert (notice["peer_id"], notice["open_offer_session"]) == (carol.peer_id, session)
        await carol.send({"type": "answer", "to": member.peer_id, "session": session, "sdp": "a"})
        answer = await member.expect("answer")
        assert (answer["from"], answer["session"]) == (carol.peer_id, session)

    # Bob leaves; Alice and Carol are told and go on.
    await bob.send({"type": "leave"})
    await bob.expect("left")
    for member in (alice, carol):
        gone = await member.expect("peer-left")
        assert (gone["peer_id"], gone["reason"]) == (bob.peer_id, "left")
    await alice.send({"type": "offer", "to": carol.peer_id, "session": "again", "sdp": "v=0"})
    assert (await carol.expect("offer"))["from"] == alice.peer_id
    await carol.send({"type": "offer", "to": bob.peer_id, "session": "x", "sdp": "v=0"})
    await carol.expect_error("unknown-peer")
