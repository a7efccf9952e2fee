"""Renewing ICE servers (`renew-ice-servers`): TURN credentials expire, and coturn
refuses new relays with an expired one, so a member who stays longer than they last
asks for fresh ones. Checked against a real coturn."""

import asyncio

import pytest

from tests.integration.client import TestClient
from tests.integration.test_resume import resume
from tests.integration.test_turn_credentials import relay_candidates
from tests.servers import ServerProcess
from tests.turn import TurnServer

CREDENTIAL_SECONDS = 600


@pytest.fixture
def turn(tmp_path):
    server = TurnServer(tmp_path / "turn").start()
    yield server
    server.stop()


@pytest.fixture
def turn_server(tmp_path, turn):
    """A peercall server that makes TURN REST credentials for `turn`."""
    server = ServerProcess(
        tmp_path / "data",
        env={
            "PEERCALL_TURN_URLS": turn.url,
            "PEERCALL_TURN_SECRET": turn.secret,
            "PEERCALL_TURN_CREDENTIAL_SECONDS": str(CREDENTIAL_SECONDS),
        },
    ).start()
    yield server
    server.stop()


def turn_credential(message: dict) -> tuple[int, str, str]:
    """(expiry, username, password) of the TURN server in a message's `ice_servers`."""
    (turn,) = [server for server in message["ice_servers"] if "username" in server]
    expiry, _, user = turn["username"].partition(":")
    return int(expiry), user, turn["credential"]


async def test_a_member_gets_fresh_credentials_that_coturn_takes(turn, turn_server):
    alice = await TestClient.connect(turn_server.ws_url)
    joined = await alice.join(turn_server.create_call())
    assert joined["ice_servers_expire_in"] == CREDENTIAL_SECONDS
    first_expiry, user, _ = turn_credential(joined)
    assert user == alice.peer_id

    await asyncio.sleep(1.1)  # expiry times are whole seconds
    await alice.send({"type": "renew-ice-servers"})
    renewed = await alice.expect("ice-servers")
    assert renewed["ice_servers_expire_in"] == CREDENTIAL_SECONDS
    expiry, user, password = turn_credential(renewed)
    assert expiry > first_expiry
    assert user == alice.peer_id
    assert await relay_candidates(turn, f"{expiry}:{user}", password)
    await alice.close()


async def test_renewing_outside_a_call_is_refused(turn_server):
    client = await TestClient.connect(turn_server.ws_url)
    await client.send({"type": "renew-ice-servers"})
    await client.expect_error("not-in-call")
    await client.send({"type": "ping"})  # still served
    await client.expect("pong")
    await client.close()


async def test_a_resumed_member_gets_fresh_credentials(turn_server):
    """It may have been away when it meant to renew them."""
    call_id = turn_server.create_call()
    bob = await TestClient.connect(turn_server.ws_url)
    joined = await bob.join(call_id)
    await bob.close()
    await asyncio.sleep(1.1)
    again = await resume(bob, turn_server, call_id)
    resumed = await again.expect("resumed")
    assert resumed["ice_servers_expire_in"] == CREDENTIAL_SECONDS
    expiry, user, _ = turn_credential(resumed)
    assert user == bob.peer_id
    assert expiry > turn_credential(joined)[0]
    await again.close()


async def test_credentials_that_never_expire_say_nothing_of_it(connect, server):
    """No TURN secret (no TURN, or a static username and password): no renewal due."""
    client = await connect()
    joined = await client.join(server.create_call())
    assert "ice_servers_expire_in" not in joined
