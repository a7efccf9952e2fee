"""Redis lost at one exact step of a join or a resume (`RedisCutter` cuts the server's
connections that carry one command): the member keeps its place, is told to come
back (the socket closes with 1013), and loses nothing when it does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.integration.client import TestClient
from tests.integration.test_resume import resume, signal
from tests.redis_cutter import RedisCutter
from tests.redis_server import RedisServer
from tests.scaleout.test_redis_cluster import in_a_call_across
from tests.servers import ServerProcess

TRY_AGAIN_LATER = 1013
# The server's Redis client tries again for ~5 s before it gives up.
GIVES_UP_WITHIN = 20


@pytest.fixture
def cutter(redis_server: RedisServer) -> Iterator[RedisCutter]:
    relay = RedisCutter(redis_server).start()
    yield relay
    relay.stop()


@pytest.fixture
def cut_server(
    tmp_path: Path, cutter: RedisCutter, request: pytest.FixtureRequest
) -> Iterator[ServerProcess]:
    """`peercall serve --redis`, its Redis through the cutter (with the settings of a
    `server_env` mark, if any)."""
    marker = request.node.get_closest_marker("server_env")
    env = {"PEERCALL_RESUME_SECONDS": "30", **(marker.kwargs if marker else {})}
    server = ServerProcess(tmp_path / "server", args=["--redis", cutter.url], env=env).start()
    yield server
    server.stop()


async def close_code(client: TestClient) -> int:
    """The code the server closes `client`'s socket with; no message may come first."""
    client.receive_timeout = GIVES_UP_WITHIN
    with pytest.raises(websockets.ConnectionClosed) as closed:
        print("a message where the socket should close:", await client.receive())
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def sent_away_after_joining(
    server: ServerProcess, cutter: RedisCutter, command: str, connect_to
) -> tuple[str, TestClient, TestClient]:
    """Alice in a call; Bob joins while the server cannot send `command` to Redis:
    he gets `joined`, then his socket is closed with 1013 (before, he stayed in the
    call with a socket that was sent nothing, and an error after his `joined`)."""
    call_id = server.create_call()
    alice, bob = await connect_to(server), await connect_to(server)
    await alice.join(call_id)
    assert await alice.drain() == []  # her join handled to its end (attached)
    cutter.cut(command)
    await bob.join(call_id)
    assert await close_code(bob) == TRY_AGAIN_LATER
    assert cutter.cuts > 0
    cutter.cut(None)
    assert (await alice.expect("peer-joined"))["peer_id"] == bob.peer_id
    return call_id, alice, bob


# HGET: before the socket is attached; XRANGE: attached, catching up.
@pytest.mark.parametrize("command", ["HGET", "XRANGE"])
async def test_a_join_cut_short_by_storage_is_resumed_with_nothing_lost(
    cut_server, cutter, connect_to, command
):
    call_id, alice, bob = await sent_away_after_joining(cut_server, cutter, command, connect_to)
    await alice.send(signal("offer", bob.peer_id, 0))
    assert await alice.drain() == []  # taken: Bob's place is kept

    bob = await resume(bob, cut_server, call_id)
    assert (await bob.expect("resumed"))["peer_id"] == bob.peer_id
    offer = await bob.expect("offer")
    assert (offer["from"], offer["sdp"]) == (alice.peer_id, "v=0 0")
    assert "Traceback" not in cut_server.log()
    await bob.close()


@pytest.mark.server_env(PEERCALL_RESUME_SECONDS="2")
async def test_a_member_sent_away_before_its_socket_was_attached_leaves_if_it_never_returns(
    cut_server, cutter, connect_to
):
    # Its place was held for good: nobody was told it had gone.
    call_id, alice, bob = await sent_away_after_joining(cut_server, cutter, "HGET", connect_to)
    alice.receive_timeout = 20
    left = await alice.expect("peer-left")
    assert (left["peer_id"], left["reason"]) == (bob.peer_id, "disconnected")
    assert cut_server.describe_call(call_id)["members"] == 1


async def test_a_resume_put_off_by_storage_is_told_so_and_works_later(
    cut_server, cutter, connect_to
):
    call_id, alice, bob = await in_a_call_across(cut_server, cut_server, connect_to)
    await bob.close()  # the network drops

    cutter.cut("XRANGE")  # resume reads the member's inbox
    bob = await resume(bob, cut_server, call_id)
    bob.receive_timeout = GIVES_UP_WITHIN
    await bob.expect_error("storage-unavailable")
    # Then closed, so that the client comes back (it stayed open, answering nothing).
    assert await close_code(bob) == TRY_AGAIN_LATER
    cutter.cut(None)

    await alice.send(signal("offer", bob.peer_id, 0))
    bob = await resume(bob, cut_server, call_id)
    await bob.expect("resumed")
    assert (await bob.expect("offer"))["from"] == alice.peer_id
    assert await alice.drain() == []  # Bob never left
    await bob.close()
