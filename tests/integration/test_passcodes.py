"""Calls with a passcode: refused without it, hashed at rest, guesses limited."""

import sqlite3

import httpx
import pytest

from tests.integration.client import TestClient
from tests.servers import ServerProcess

PASSCODE = "blue-heron-42"


@pytest.fixture
def guarded_server(tmp_path):
    server = ServerProcess(
        tmp_path / "data", env={"PEERCALL_PASSCODE_ATTEMPTS_PER_MINUTE": "3"}
    ).start()
    yield server
    server.stop()


async def test_joining_needs_the_passcode(guarded_server):
    call_id = guarded_server.create_call(passcode=PASSCODE)
    # The page learns it must ask before trying to join.
    assert guarded_server.describe_call(call_id)["passcode"] is True
    alice = await TestClient.connect(guarded_server.ws_url)
    await alice.send({"type": "join", "call_id": call_id})
    await alice.expect_error("passcode-required")
    await alice.send({"type": "join", "call_id": call_id, "passcode": "wrong-one"})
    await alice.expect_error("wrong-passcode")
    await alice.join(call_id, passcode=PASSCODE)
    bob = await TestClient.connect(guarded_server.ws_url)
    await bob.join(call_id, passcode=PASSCODE)
    await alice.expect("peer-joined")
    for client in (alice, bob):
        await client.close()


async def test_a_call_without_a_passcode_needs_none(guarded_server):
    call_id = guarded_server.create_call()
    assert guarded_server.describe_call(call_id)["passcode"] is False
    client = await TestClient.connect(guarded_server.ws_url)
    await client.join(call_id)
    await client.close()


async def test_guesses_are_limited_even_when_the_next_one_is_right(guarded_server):
    call_id = guarded_server.create_call(passcode=PASSCODE)
    guesser = await TestClient.connect(guarded_server.ws_url)
    for guess in ("0000", "1111", "2222"):
        await guesser.send({"type": "join", "call_id": call_id, "passcode": guess})
        await guesser.expect_error("wrong-passcode")
    await guesser.send({"type": "join", "call_id": call_id, "passcode": PASSCODE})
    await guesser.expect_error("rate-limited")
    await guesser.close()


def test_the_passcode_is_kept_only_as_a_salted_hash(guarded_server):
    first = guarded_server.create_call(passcode=PASSCODE)
    second = guarded_server.create_call(passcode=PASSCODE)
    guarded_server.stop()
    database = guarded_server.data_dir / "peercall.sqlite3"
    with sqlite3.connect(database) as db:
        hashes = [row[0] for row in db.execute("SELECT passcode_hash FROM calls")]
    assert len(hashes) == 2
    assert hashes[0] != hashes[1]  # salted: equal passcodes do not look alike
    assert all(h.startswith("scrypt$") for h in hashes)
    stored = b"".join(p.read_bytes() for p in database.parent.glob("peercall.sqlite3*"))
    for secret in (PASSCODE, first, second):
        assert secret.encode() not in stored
    assert PASSCODE not in guarded_server.log()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"passcode": "abc"}, "at least 4"),
        ({"passcode": "x" * 129}, "at most 128"),
        ({"passcode": 1234}, "Expected `str"),
        ({"pass": "abcd"}, "unknown field"),
    ],
)
def test_a_bad_request_for_a_new_call_says_what_is_wrong(server, body, reason):
    response = httpx.post(server.url + "/api/calls", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid-message"
    assert reason in response.json()["error"]["message"]
