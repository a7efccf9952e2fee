"""Three peercall processes and one Redis: any process serves any call, a member whose
process dies resumes through another without losing a signal, and a Redis restart is
survived. Everything real: `redis-server`, `peercall serve --redis`, WebSockets."""

import asyncio

import httpx
import pytest

from tests.integration.client import TestClient, candidate
from tests.integration.test_resume import resume, signal
from tests.servers import ServerProcess


async def in_a_call_across(
    one: ServerProcess, other: ServerProcess, connect_to
) -> tuple[str, TestClient, TestClient]:
    """A call made on `one`, Alice in it through `one` and Bob through `other`."""
    call_id = one.create_call()
    alice, bob = await connect_to(one), await connect_to(other)
    await alice.join(call_id)
    await bob.join(call_id)
    await alice.expect("peer-joined")
    # Each join handled to its end (its history written after `joined`): a ping is
    # answered after it. A test that takes Redis away then does not catch one half-done.
    assert await alice.drain() == []
    assert await bob.drain() == []
    return call_id, alice, bob


async def test_a_call_made_on_one_process_is_joined_on_two_others(cluster, connect_to):
    maker, first, second = cluster
    call_id = maker.create_call()
    alice, bob = await connect_to(first), await connect_to(second)
    await alice.join(call_id, name="Alice")
    # An open offer and its candidates, held until somebody joins (on another process).
    await alice.send({"type": "offer", "to": "next", "session": "s", "sdp": "v=0 open"})
    for n in range(10):
        await alice.send(
            {"type": "candidate", "to": "next", "session": "s", "candidate": candidate(n)}
        )
    assert await alice.drain() == []

    joined = await bob.join(call_id, name="Bob")
    assert [(p["peer_id"], p["name"]) for p in joined["peers"]] == [(alice.peer_id, "Alice")]
    handed = await bob.drain()
    assert [m["type"] for m in handed] == ["offer"] + ["candidate"] * 10
    assert [m["candidate"] for m in handed[1:]] == [candidate(n) for n in range(10)]
    notice = await alice.expect("peer-joined")
    assert (notice["peer_id"], notice["open_offer_session"]) == (bob.peer_id, "s")

    await bob.send({"type": "answer", "to": alice.peer_id, "session": "s", "sdp": "v=0 a"})
    for n in range(5):
        await bob.send(
            {"type": "candidate", "to": alice.peer_id, "session": "s", "candidate": candidate(n)}
        )
    back = [await alice.receive() for _ in range(6)]
    assert [m["type"] for m in back] == ["answer"] + ["candidate"] * 5
    # Every process sees the same call.
    for server in cluster:
        assert server.describe_call(call_id)["members"] == 2

    await bob.send({"type": "leave"})
    await bob.expect("left")
    assert (await alice.expect("peer-left"))["reason"] == "left"
    assert maker.describe_call(call_id)["members"] == 1


async def test_the_process_of_a_member_dies_and_it_resumes_on_another_losing_nothing(
    cluster, connect_to
):
    first, doomed, spare = cluster
    call_id, alice, bob = await in_a_call_across(first, doomed, connect_to)
    await alice.send(signal("offer", bob.peer_id, 0))
    received = [await bob.receive() for _ in range(1)]

    doomed.kill()  # no goodbye: SIGKILL
    for n in range(20):  # while Bob's process is dead
        await alice.send(signal("candidate", bob.peer_id, n))
    await alice.drain()

    bob = await resume(bob, spare, call_id)
    resumed = await bob.expect("resumed")
    assert (resumed["peer_id"], resumed["last_received"]) == (bob.peer_id, 0)
    received += await bob.drain()
    numbers = [int(m["candidate"]["candidate"].split()[0].split(":")[1]) for m in received[1:]]
    assert received[0]["type"] == "offer"
    assert numbers == list(range(20))  # every one, once, in order (seq checked too)

    # Bob numbers his own signals: one sent twice (after a drop) is relayed once.
    await bob.send(signal("answer", alice.peer_id, 1, seq=1))
    await bob.send(signal("answer", alice.peer_id, 1, seq=1))
    await bob.drain()
    answers = [m for m in await alice.drain() if m["type"] == "answer"]
    assert len(answers) == 1
    # Alice never saw Bob leave: to her, the call simply went on.
    assert all(m["type"] != "peer-left" for m in await alice.drain())


@pytest.mark.server_env(PEERCALL_RESUME_SECONDS="3")
async def test_a_member_whose_process_died_and_who_never_came_back_leaves(cluster, connect_to):
    first, doomed, _ = cluster
    call_id, alice, bob = await in_a_call_across(first, doomed, connect_to)
    doomed.kill()
    # Noticed when the process stops renewing its key (6 s), then 3 s to come back.
    async with asyncio.timeout(30):
        gone = await expect_eventually(alice, "peer-left")
    assert (gone["peer_id"], gone["reason"]) == (bob.peer_id, "disconnected")
    assert first.describe_call(call_id)["members"] == 1


async def expect_eventually(client: TestClient, kind: str) -> dict:
    """The next message of `kind`, pinging meanwhile so the server keeps the socket."""
    while True:
        await client.send({"type": "ping"})
        while (message := await client.receive())["type"] != "pong":
            if message["type"] == kind:
                return message
        await asyncio.sleep(1)


async def test_the_servers_recover_when_redis_restarts(cluster, connect_to, redis_server):
    first, second, third = cluster
    _, alice, bob = await in_a_call_across(first, second, connect_to)

    redis_server.restart()

    # The call goes on: a signal crosses processes again (a retry or two at most).
    async with asyncio.timeout(20):
        await alice.send(signal("offer", bob.peer_id, 0))
        offer = await bob.expect("offer")
    assert offer["from"] == alice.peer_id
    # Ready again, and new calls work on every process.
    async with httpx.AsyncClient(timeout=30) as http:
        for server in cluster:
            assert (await http.get(server.url + "/readyz")).status_code == 200
    new_call = third.create_call()
    carol, dave = await connect_to(third), await connect_to(first)
    await carol.join(new_call)
    await dave.join(new_call)
    assert (await carol.expect("peer-joined"))["peer_id"] == dave.peer_id


async def test_without_redis_requests_get_a_readable_error_and_sockets_stay(
    cluster, connect_to, redis_server
):
    server = cluster[0]
    call_id = server.create_call()
    alice = await connect_to(server)
    await alice.join(call_id)
    # Her join handled to its end (attached after `joined`): a ping is answered after
    # it. Redis gone while she was being attached sent her away (1013), as it should.
    assert await alice.drain() == []
    redis_server.stop()

    async with httpx.AsyncClient(timeout=30) as http:
        refused = await http.post(server.url + "/api/calls")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json()["error"]["code"] == "storage-unavailable"
    bob = await connect_to(server)
    await bob.send({"type": "join", "call_id": call_id})
    # After the Redis client's retries (about 5 s), which ride out a restart.
    bob.receive_timeout = 20
    await bob.expect_error("storage-unavailable")
    # Both sockets are still served: their pings are answered.
    assert await alice.drain() == []
    assert await bob.drain() == []

    redis_server.start()
    await bob.join(call_id)
    assert (await alice.expect("peer-joined"))["peer_id"] == bob.peer_id
    assert "Traceback" not in server.log()


@pytest.mark.server_env(PEERCALL_RESUME_SECONDS="2")
async def test_a_socket_that_closes_while_redis_is_down_leaves_once_it_is_back(
    cluster, connect_to, redis_server
):
    server = cluster[0]
    call_id, alice, bob = await in_a_call_across(server, server, connect_to)
    redis_server.stop()
    await bob.connection.close()
    # Longer than the Redis client retries (~5 s): letting Bob's place go fails.
    await asyncio.sleep(7)
    redis_server.start()
    # Otherwise Bob kept his seat for ever and Alice was never told.
    alice.receive_timeout = 30
    left = await alice.expect("peer-left")
    assert (left["peer_id"], left["reason"]) == (bob.peer_id, "disconnected")
    assert server.describe_call(call_id)["members"] == 1
    assert "Traceback" not in server.log()


@pytest.mark.server_env(PEERCALL_RESUME_SECONDS="2")
async def test_an_outage_longer_than_the_heartbeat_gives_nobody_up(
    cluster, connect_to, redis_server
):
    """Every process's heartbeat lapses while Redis is down; each took the others for
    dead once it was back, and all their members left after `resume_seconds`."""
    first, second, _ = cluster
    call_id, alice, bob = await in_a_call_across(first, second, connect_to)
    redis_server.stop()
    await asyncio.sleep(8)  # longer than a heartbeat lives (6 s)
    redis_server.start()
    await asyncio.sleep(6)  # back, and longer than `resume_seconds` since

    assert await alice.drain() == []  # nobody left
    await alice.send({"type": "offer", "to": bob.peer_id, "session": "s", "sdp": "v=0"})
    bob.receive_timeout = 20
    assert (await bob.expect("offer"))["from"] == alice.peer_id
    assert first.describe_call(call_id)["members"] == 2


def test_readiness_follows_redis(cluster, redis_server):
    server = cluster[0]
    assert httpx.get(server.url + "/readyz").status_code == 200
    redis_server.stop()
    response = httpx.get(server.url + "/readyz", timeout=30)
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "storage": "unreachable"}
    redis_server.start()
    assert httpx.get(server.url + "/readyz", timeout=30).status_code == 200


@pytest.mark.server_env(PEERCALL_CALL_TTL_SECONDS="2")
async def test_a_call_nobody_is_in_ends_everywhere_once(cluster, connect_to, redis_server):
    maker, other, _ = cluster
    idle_call, busy_call = maker.create_call(), maker.create_call()
    alice = await connect_to(other)
    await alice.join(busy_call)
    response = await other.ended_call(idle_call)
    assert response.json()["error"]["code"] == "call-ended"
    async with httpx.AsyncClient() as http:
        # A call somebody is in does not end, on any process.
        for server in cluster:
            assert (await http.get(f"{server.url}/api/calls/{busy_call}")).status_code == 200
    stranger = await connect_to(maker)
    await stranger.send({"type": "join", "call_id": idle_call})
    await stranger.expect_error("call-ended")
    # Ended once, though three processes sweep.
    events = await RedisEvents(redis_server.url).kinds(idle_call)
    assert events == ["created", "ended"]


class RedisEvents:
    """Reads a call's history straight from Redis, as the operator's tools would."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def kinds(self, call_id: str) -> list[str]:
        from peercall.server.store.redis import RedisCallStore

        store = RedisCallStore(self.url)
        await store.open()
        try:
            return [event.kind for event in await store.events(call_id)]
        finally:
            await store.close()


async def test_looking_and_joining_with_answers_work_across_servers(cluster, connect_to):
    first, second, third = cluster
    call_id = first.create_call()
    host: TestClient = await connect_to(first)
    await host.join(call_id)
    await host.send({"type": "offer", "to": "next", "session": "open", "sdp": "v=0 open"})
    await host.drain()
    onlooker = await connect_to(second)
    await onlooker.send({"type": "look", "call_id": call_id})
    looked = await onlooker.expect("looked")
    assert [o["from"] for o in looked["offers"]] == [host.peer_id]
    guest = await connect_to(third)
    answer = {"to": host.peer_id, "session": "open", "sdp": "v=0 answer"}
    assert (await guest.join(call_id, answers=[answer]))["answered"] == [host.peer_id]
    assert (await host.expect("peer-joined"))["peer_id"] == guest.peer_id
    assert (await host.expect("answer"))["sdp"] == "v=0 answer"
