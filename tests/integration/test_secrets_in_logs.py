"""Whatever the log level, no secret reaches the log: not call ids (they are the
links), passcodes, resume tokens, the admin token, the TURN secret or the TURN
credentials made from it."""

import sqlite3

import httpx

from tests.integration.client import TestClient
from tests.integration.test_resume import resume
from tests.servers import ServerProcess

TURN_SECRET = "turn-shared-secret-0123456789"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
PASSCODE = "osprey-over-the-lake"


async def test_no_secret_is_logged_even_at_debug_level(tmp_path):
    server = ServerProcess(
        tmp_path / "data",
        env={
            "PEERCALL_LOG_LEVEL": "debug",
            "PEERCALL_TURN_URLS": "turn:127.0.0.1:3478",
            "PEERCALL_TURN_SECRET": TURN_SECRET,
            "PEERCALL_ADMIN_TOKEN": ADMIN_TOKEN,
        },
    ).start()
    try:
        call_id = server.create_call(passcode=PASSCODE)
        alice = await TestClient.connect(server.ws_url)
        joined = await alice.join(call_id, passcode=PASSCODE)
        bob = await TestClient.connect(server.ws_url)
        await bob.join(call_id, passcode=PASSCODE)
        await alice.expect("peer-joined")
        await alice.send({"type": "offer", "to": bob.peer_id, "session": "s", "sdp": "v=0"})
        await bob.expect("offer")
        await bob.close()  # dropped, then resumed on a new connection
        again = await resume(bob, server, call_id)
        await again.expect("resumed")
        async with httpx.AsyncClient() as http:
            listing = await http.get(
                server.url + "/api/calls", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
            )
            assert listing.status_code == 200
        for client in (alice, again):
            await client.close()
    finally:
        server.stop()
    with sqlite3.connect(server.data_dir / "peercall.sqlite3") as db:
        (passcode_hash,) = db.execute("SELECT passcode_hash FROM calls").fetchone()
    turn = joined["ice_servers"][0]
    secrets = {
        "call id": call_id,
        "passcode": PASSCODE,
        "passcode hash": passcode_hash.rsplit("$", 1)[1],
        "resume token": joined["resume_token"],
        "another resume token": bob.resume_token,
        "admin token": ADMIN_TOKEN,
        "TURN secret": TURN_SECRET,
        "TURN username": turn["username"],
        "TURN credential": turn["credential"],
    }
    log = server.log()
    assert "join call=" in log  # the log is there, and at debug level
    assert "DEBUG" in log
    leaked = [name for name, secret in secrets.items() if secret in log]
    assert leaked == []
