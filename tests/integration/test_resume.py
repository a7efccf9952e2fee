"""A member whose connection drops takes its place back (`resume`) with nothing lost."""

from tests.conftest import ONE_TO_ONE
from tests.integration.client import TestClient, candidate
from tests.servers import ServerProcess


async def in_a_call(server: ServerProcess, connect) -> tuple[str, TestClient, TestClient]:
    call_id = server.create_call()
    alice, bob = await connect(), await connect()
    await alice.join(call_id)
    await bob.join(call_id)
    await alice.expect("peer-joined")
    return call_id, alice, bob


async def resume(client: TestClient, server: ServerProcess, call_id: str) -> TestClient:
    """`client` on a new connection, resumed; returns the new client (same numbering)."""
    again = await TestClient.connect(server.ws_url)
    again.peer_id, again.resume_token, again.last_seq = (
        client.peer_id,
        client.resume_token,
        client.last_seq,
    )
    await again.send(
        {
            "type": "resume",
            "call_id": call_id,
            "peer_id": client.peer_id,
            "resume_token": client.resume_token,
            "last_seq": client.last_seq,
        }
    )
    return again


def signal(kind: str, to: str, n: int, seq: int | None = None) -> dict:
    message = {"type": kind, "to": to, "session": "s1"}
    message |= {"candidate": candidate(n)} if kind == "candidate" else {"sdp": f"v=0 {n}"}
    return message | ({"seq": seq} if seq is not None else {})


async def test_every_candidate_arrives_once_in_order_across_a_dropped_connection(server, connect):
    call_id, alice, bob = await in_a_call(server, connect)
    await alice.send(signal("offer", bob.peer_id, 0))
    for n in range(10):
        await alice.send(signal("candidate", bob.peer_id, n))
    received = [await bob.receive() for _ in range(4)]  # the offer and 3 candidates
    await bob.connection.close()  # the network drops in the middle of negotiation
    for n in range(10, 20):
        await alice.send(signal("candidate", bob.peer_id, n))
    await alice.drain()  # all of it handled by the server while Bob is away

    bob = await resume(bob, server, call_id)
    resumed = await bob.expect("resumed")
    assert resumed == {
        "type": "resumed",
        "call_id": call_id,
        "peer_id": bob.peer_id,
        "last_received": 0,
    }
    received += await bob.drain()
    assert received[0]["type"] == "offer"
    numbers = [int(m["candidate"]["candidate"].split()[0].split(":")[1]) for m in received[1:]]
    assert numbers == list(range(20))  # every one, once, in order (seq checked too)

    await bob.send(signal("answer", alice.peer_id, 1))
    assert (await alice.expect("answer"))["from"] == bob.peer_id  # the call goes on


async def test_signals_sent_again_after_a_drop_are_not_duplicated(server, connect):
    call_id, alice, bob = await in_a_call(server, connect)
    await bob.send(signal("answer", alice.peer_id, 0, seq=1))
    await bob.send(signal("candidate", alice.peer_id, 0, seq=2))
    await bob.drain()
    await bob.connection.close()
    bob = await resume(bob, server, call_id)
    assert (await bob.expect("resumed"))["last_received"] == 2
    # A client unsure what got through sends it again: the server drops what it had.
    await bob.send(signal("candidate", alice.peer_id, 0, seq=2))
    await bob.send(signal("candidate", alice.peer_id, 1, seq=3))
    await bob.drain()
    got = await alice.drain()
    assert [m["type"] for m in got] == ["answer", "candidate", "candidate"]
    assert [m["candidate"]["candidate"] for m in got[1:]] == [
        candidate(0)["candidate"],
        candidate(1)["candidate"],
    ]


async def test_the_other_member_sees_nothing_of_a_drop_that_is_resumed(server, connect):
    call_id, alice, bob = await in_a_call(server, connect)
    await bob.connection.close()
    bob = await resume(bob, server, call_id)
    await bob.expect("resumed")
    assert await alice.drain() == []  # no peer-left, no peer-joined


async def test_a_wrong_token_cannot_take_a_place(server, connect):
    call_id, alice, bob = await in_a_call(server, connect)
    await bob.connection.close()
    bob.resume_token = "not-" + bob.resume_token
    thief = await resume(bob, server, call_id)
    await thief.expect_error("resume-failed")
    await thief.send(signal("offer", alice.peer_id, 0))
    await thief.expect_error("not-in-call")


async def test_a_place_not_resumed_in_time_is_given_up(tmp_path):
    server = ServerProcess(tmp_path / "data", env={"PEERCALL_RESUME_SECONDS": "0.3"}).start()
    try:
        call_id = server.create_call()
        alice, bob = (
            await TestClient.connect(server.ws_url),
            await TestClient.connect(server.ws_url),
        )
        await alice.join(call_id)
        await bob.join(call_id)
        await alice.expect("peer-joined")
        await bob.connection.close()
        left = await alice.expect("peer-left")
        assert left["reason"] == "disconnected"
        late = await resume(bob, server, call_id)
        await late.expect_error("resume-failed")
        await alice.close()
        await late.close()
    finally:
        server.stop()


@ONE_TO_ONE
async def test_places_are_resumed_after_a_server_restart(server, connect):
    call_id, alice, bob = await in_a_call(server, connect)
    server.stop()
    server.start()
    alice = await resume(alice, server, call_id)
    bob = await resume(bob, server, call_id)
    for client in (alice, bob):
        # The server cannot know what it handled before it stopped.
        assert "last_received" not in await client.expect("resumed")
    await alice.send(signal("offer", bob.peer_id, 7))
    offer = await bob.expect("offer")
    assert (offer["from"], offer["sdp"]) == (alice.peer_id, "v=0 7")
    intruder = await connect()
    await intruder.send({"type": "join", "call_id": call_id})
    await intruder.expect_error("call-full")  # both places are taken again
    for client in (alice, bob):
        await client.close()
