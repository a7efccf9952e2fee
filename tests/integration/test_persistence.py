"""Calls live in SQLite: links keep working across restarts, history is kept, calls expire."""

import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
import redis as redis_py

from peercall.ids import new_call_id
from peercall.server.store import call_key
from tests.integration.client import TestClient
from tests.servers import ServerProcess


async def test_a_call_survives_a_server_restart(server, connect):
    call_id = server.create_call()
    alice = await connect()
    await alice.join(call_id)
    await alice.close()
    server.stop()
    server.start()

    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{server.url}/api/calls/{call_id}")).status_code == 200
    bob, carol = await connect(), await connect()
    await bob.join(call_id)
    await carol.join(call_id)
    assert (await bob.expect("peer-joined"))["peer_id"] == carol.peer_id
    await bob.send({"type": "leave"})
    await bob.expect("left")
    await carol.expect("peer-left")

    server.stop()
    with sqlite3.connect(server.data_dir / "peercall.sqlite3") as db:
        rows = db.execute(
            "SELECT kind, peer_id FROM call_events WHERE call_key = ? ORDER BY seq",
            (call_key(call_id),),
        ).fetchall()
    kinds = [kind for kind, _ in rows]
    # Alice and Carol did not leave: their places wait for a `resume` (after the
    # restart too), so no leave is recorded for them.
    assert kinds == ["created", "join", "join", "join", "leave"]
    peers = [peer for _, peer in rows]
    assert peers[1:] == [alice.peer_id, bob.peer_id, carol.peer_id, bob.peer_id]


async def test_an_idle_call_ends_and_its_link_says_so(tmp_path):
    server = ServerProcess(tmp_path / "data", env={"PEERCALL_CALL_TTL_SECONDS": "0.5"}).start()
    try:
        call_id = server.create_call()
        response = await server.ended_call(call_id)
        assert response.status_code == 410
        assert response.json()["error"]["code"] == "call-ended"
    finally:
        server.stop()


@pytest.mark.parametrize("storage", ["embedded", "redis"])
async def test_an_ended_call_is_forgotten_after_history_seconds(tmp_path, storage, request):
    redis = request.getfixturevalue("redis_server") if storage == "redis" else None
    server = ServerProcess(
        tmp_path / "data",
        args=["--redis", redis.url] if redis else [],
        env={"PEERCALL_CALL_TTL_SECONDS": "0.5", "PEERCALL_HISTORY_SECONDS": "1"},
    ).start()
    try:
        call_id = server.create_call()
        alice = await TestClient.connect(server.ws_url)
        await alice.join(call_id, name="Ada Lovelace")
        await alice.send({"type": "leave"})
        await alice.expect("left")
        await alice.close()
        assert (await server.ended_call(call_id)).json()["error"]["code"] == "call-ended"
        forgotten = await server.call_answer_becomes(call_id, 404)
        assert forgotten.json()["error"]["code"] == "call-not-found"
    finally:
        server.stop()
    key = call_key(call_id)
    if redis:
        client = redis_py.Redis.from_url(redis.url, decode_responses=True)
        try:
            assert [name for name in client.keys("*") if key in name] == []
        finally:
            client.close()
    else:
        with sqlite3.connect(tmp_path / "data" / "peercall.sqlite3") as db:
            for table in ("calls", "call_events", "members"):
                rows = db.execute(f"SELECT count(*) FROM {table} WHERE call_key = ?", (key,))
                assert rows.fetchone() == (0,), table
            assert db.execute("SELECT count(*) FROM members").fetchone() == (0,)
        # Not even in the file's free pages.
        assert b"Ada Lovelace" not in (tmp_path / "data" / "peercall.sqlite3").read_bytes()


def test_unknown_and_malformed_call_ids_are_not_found(server):
    for call_id in ["A" * 22, "short", "x" * 300, "%2e%2e"]:
        response = httpx.get(f"{server.url}/api/calls/{call_id}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "call-not-found"


def test_new_call_ids_are_long_random_and_url_safe(tmp_path):
    # More calls than one address may create per minute by default.
    env = {"PEERCALL_CALLS_PER_IP_PER_MINUTE": "1000"}
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        ids = {server.create_call() for _ in range(50)}
    finally:
        server.stop()
    assert len(ids) == 50
    assert all(len(i) == 22 and all(c.isalnum() or c in "-_" for c in i) for i in ids)


def test_the_operator_lists_open_calls_with_the_admin_token(server):
    call_id = server.create_call()
    assert httpx.get(f"{server.url}/api/calls").status_code == 401
    bad = httpx.get(f"{server.url}/api/calls", headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    token = (server.data_dir / "admin-token").read_text().strip()
    good = httpx.get(f"{server.url}/api/calls", headers={"authorization": f"Bearer {token}"})
    assert good.status_code == 200
    # The operator sees that the call exists, not its link.
    assert [c["call_key"] for c in good.json()["calls"]] == [call_key(call_id)]
    assert call_id not in good.text
    assert oct((server.data_dir / "admin-token").stat().st_mode & 0o777) == "0o600"

    cli = subprocess.run(
        [sys.executable, "-m", "peercall", "calls", "--server", server.url,
         "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert call_key(call_id)[:12] in cli.stdout
    assert call_id not in cli.stdout
    assert token not in cli.stdout + cli.stderr
    assert token not in server.log()


OLD_SCHEMA = """
CREATE TABLE calls (call_id TEXT PRIMARY KEY, created_at REAL NOT NULL,
    last_activity REAL NOT NULL, ended_at REAL);
CREATE TABLE call_events (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL REFERENCES calls(call_id), at REAL NOT NULL, kind TEXT NOT NULL,
    peer_id TEXT);
CREATE TABLE members (call_id TEXT NOT NULL REFERENCES calls(call_id), peer_id TEXT NOT NULL,
    name TEXT NOT NULL, resume_token_hash TEXT NOT NULL, joined_at REAL NOT NULL,
    left_at REAL, PRIMARY KEY (call_id, peer_id));
CREATE INDEX call_events_by_call ON call_events(call_id, seq);
"""


def test_a_database_of_an_earlier_version_keeps_its_calls_but_not_their_ids(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    call_id = new_call_id()
    database = data_dir / "peercall.sqlite3"
    with sqlite3.connect(database) as db:
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO calls VALUES (?, ?, ?, NULL)", (call_id, time.time(), time.time()))
        db.execute(
            "INSERT INTO call_events (call_id, at, kind) VALUES (?, 0, 'created')", (call_id,)
        )
    server = ServerProcess(data_dir).start()
    try:
        assert server.describe_call(call_id)["call_id"] == call_id
    finally:
        server.stop()
    with sqlite3.connect(database) as db:
        kinds = db.execute(
            "SELECT kind FROM call_events WHERE call_key = ?", (call_key(call_id),)
        ).fetchall()
    assert kinds == [("created",)]
    assert call_id.encode() not in database.read_bytes()
