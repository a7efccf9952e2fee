"""The embedded default store: one SQLite file in the data dir, through aiosqlite."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from peercall.server.store.base import CallEvent, CallRecord, EventKind, MemberRecord, call_key

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_key TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    last_activity REAL NOT NULL,
    ended_at REAL,
    passcode_hash TEXT
);
CREATE TABLE IF NOT EXISTS call_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_key TEXT NOT NULL REFERENCES calls(call_key),
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    peer_id TEXT
);
CREATE TABLE IF NOT EXISTS members (
    call_key TEXT NOT NULL REFERENCES calls(call_key),
    peer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    resume_token_hash TEXT NOT NULL,
    joined_at REAL NOT NULL,
    left_at REAL,
    PRIMARY KEY (call_key, peer_id)
);
CREATE INDEX IF NOT EXISTS call_events_by_call ON call_events(call_key, seq);
CREATE INDEX IF NOT EXISTS open_calls_by_activity ON calls(last_activity) WHERE ended_at IS NULL;
"""
# Version 0 kept call ids themselves: replace them by their digests, in place.
MIGRATE_FROM_0 = """
ALTER TABLE calls RENAME COLUMN call_id TO call_key;
ALTER TABLE calls ADD COLUMN passcode_hash TEXT;
UPDATE calls SET call_key = call_key_of(call_key);
ALTER TABLE call_events RENAME COLUMN call_id TO call_key;
UPDATE call_events SET call_key = call_key_of(call_key);
ALTER TABLE members RENAME COLUMN call_id TO call_key;
UPDATE members SET call_key = call_key_of(call_key);
DROP INDEX IF EXISTS call_events_by_call;
"""
CALL_COLUMNS = "call_key, created_at, last_activity, ended_at, passcode_hash"


class SqliteCallStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteCallStore.open() was not called")
        return self._db

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        # WAL: readers never wait for the writer; NORMAL sync is durable across a
        # process crash, which is what a restart needs.
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._migrate()
        await self._db.executescript(SCHEMA)
        await self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        await self._db.commit()

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cursor:
            (version,) = await cursor.fetchone() or (0,)
        async with self.db.execute(
            "SELECT 1 FROM pragma_table_info('calls') WHERE name = 'call_id'"
        ) as cursor:
            holds_call_ids = await cursor.fetchone() is not None
        if version == 0 and holds_call_ids:
            await self.db.create_function("call_key_of", 1, call_key, deterministic=True)
            await self.db.executescript(MIGRATE_FROM_0)
            # Rewritten rows leave the old ids in free pages: clear those too.
            await self.db.execute("VACUUM")

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def create_call(
        self, call_id: str, now: float, passcode_hash: str | None = None
    ) -> CallRecord:
        key = call_key(call_id)
        await self.db.execute(
            "INSERT INTO calls (call_key, created_at, last_activity, passcode_hash)"
            " VALUES (?, ?, ?, ?)",
            (key, now, now, passcode_hash),
        )
        await self._append_event(key, "created", None, now)
        await self.db.commit()
        return CallRecord(key, created_at=now, last_activity=now, passcode_hash=passcode_hash)

    async def get_call(self, call_id: str) -> CallRecord | None:
        async with self.db.execute(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE call_key = ?", (call_key(call_id),)
        ) as cursor:
            row = await cursor.fetchone()
        return CallRecord(*row) if row else None

    async def record_event(
        self, call_id: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        key = call_key(call_id)
        await self._append_event(key, kind, peer_id, now)
        await self.db.execute("UPDATE calls SET last_activity = ? WHERE call_key = ?", (now, key))
        await self.db.commit()

    async def end_call(self, key: str, now: float) -> None:
        await self.db.execute(
            "UPDATE calls SET ended_at = ? WHERE call_key = ? AND ended_at IS NULL", (now, key)
        )
        await self._append_event(key, "ended", None, now)
        await self.db.commit()

    async def open_calls(self) -> list[CallRecord]:
        async with self.db.execute(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE ended_at IS NULL ORDER BY created_at"
        ) as cursor:
            return [CallRecord(*row) async for row in cursor]

    async def idle_calls(self, inactive_since: float) -> list[str]:
        async with self.db.execute(
            "SELECT call_key FROM calls WHERE ended_at IS NULL AND last_activity < ?",
            (inactive_since,),
        ) as cursor:
            return [row[0] async for row in cursor]

    async def events(self, call_id: str) -> list[CallEvent]:
        async with self.db.execute(
            "SELECT call_key, at, kind, peer_id FROM call_events WHERE call_key = ? ORDER BY seq",
            (call_key(call_id),),
        ) as cursor:
            return [CallEvent(*row) async for row in cursor]

    async def _append_event(
        self, key: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        await self.db.execute(
            "INSERT INTO call_events (call_key, at, kind, peer_id) VALUES (?, ?, ?, ?)",
            (key, now, kind, peer_id),
        )

    async def add_member(
        self, call_id: str, peer_id: str, name: str, resume_token_hash: str, now: float
    ) -> None:
        await self.db.execute(
            "INSERT INTO members (call_key, peer_id, name, resume_token_hash, joined_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (call_key(call_id), peer_id, name, resume_token_hash, now),
        )
        await self.db.commit()

    async def member_left(self, call_id: str, peer_id: str, now: float) -> None:
        await self.db.execute(
            "UPDATE members SET left_at = ? WHERE call_key = ? AND peer_id = ? AND left_at IS NULL",
            (now, call_key(call_id), peer_id),
        )
        await self.db.commit()

    async def get_member(self, call_id: str, peer_id: str) -> MemberRecord | None:
        async with self.db.execute(
            "SELECT call_key, peer_id, name, resume_token_hash, left_at FROM members"
            " WHERE call_key = ? AND peer_id = ?",
            (call_key(call_id), peer_id),
        ) as cursor:
            row = await cursor.fetchone()
        return MemberRecord(*row) if row else None
