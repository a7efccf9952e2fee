"""The embedded default store: one SQLite file in the data dir, through aiosqlite."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from peercall.server.store.base import CallEvent, CallRecord, EventKind, MemberRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    last_activity REAL NOT NULL,
    ended_at REAL
);
CREATE TABLE IF NOT EXISTS call_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL REFERENCES calls(call_id),
    at REAL NOT NULL,
    kind TEXT NOT NULL,
    peer_id TEXT
);
CREATE TABLE IF NOT EXISTS members (
    call_id TEXT NOT NULL REFERENCES calls(call_id),
    peer_id TEXT NOT NULL,
    name TEXT NOT NULL,
    resume_token_hash TEXT NOT NULL,
    joined_at REAL NOT NULL,
    left_at REAL,
    PRIMARY KEY (call_id, peer_id)
);
CREATE INDEX IF NOT EXISTS call_events_by_call ON call_events(call_id, seq);
CREATE INDEX IF NOT EXISTS open_calls_by_activity ON calls(last_activity) WHERE ended_at IS NULL;
"""


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
        await self._db.executescript(SCHEMA)
        await self._db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def create_call(self, call_id: str, now: float) -> CallRecord:
        await self.db.execute(
            "INSERT INTO calls (call_id, created_at, last_activity) VALUES (?, ?, ?)",
            (call_id, now, now),
        )
        await self._append_event(call_id, "created", None, now)
        await self.db.commit()
        return CallRecord(call_id=call_id, created_at=now, last_activity=now)

    async def get_call(self, call_id: str) -> CallRecord | None:
        async with self.db.execute(
            "SELECT call_id, created_at, last_activity, ended_at FROM calls WHERE call_id = ?",
            (call_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return CallRecord(*row) if row else None

    async def record_event(
        self, call_id: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        await self._append_event(call_id, kind, peer_id, now)
        await self.db.execute(
            "UPDATE calls SET last_activity = ? WHERE call_id = ?", (now, call_id)
        )
        await self.db.commit()

    async def end_call(self, call_id: str, now: float) -> None:
        await self.db.execute(
            "UPDATE calls SET ended_at = ? WHERE call_id = ? AND ended_at IS NULL",
            (now, call_id),
        )
        await self._append_event(call_id, "ended", None, now)
        await self.db.commit()

    async def open_calls(self) -> list[CallRecord]:
        async with self.db.execute(
            "SELECT call_id, created_at, last_activity, ended_at FROM calls"
            " WHERE ended_at IS NULL ORDER BY created_at"
        ) as cursor:
            return [CallRecord(*row) async for row in cursor]

    async def idle_calls(self, inactive_since: float) -> list[str]:
        async with self.db.execute(
            "SELECT call_id FROM calls WHERE ended_at IS NULL AND last_activity < ?",
            (inactive_since,),
        ) as cursor:
            return [row[0] async for row in cursor]

    async def events(self, call_id: str) -> list[CallEvent]:
        async with self.db.execute(
            "SELECT call_id, at, kind, peer_id FROM call_events WHERE call_id = ? ORDER BY seq",
            (call_id,),
        ) as cursor:
            return [CallEvent(*row) async for row in cursor]

    async def _append_event(
        self, call_id: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        await self.db.execute(
            "INSERT INTO call_events (call_id, at, kind, peer_id) VALUES (?, ?, ?, ?)",
            (call_id, now, kind, peer_id),
        )

    async def add_member(
        self, call_id: str, peer_id: str, name: str, resume_token_hash: str, now: float
    ) -> None:
        await self.db.execute(
            "INSERT INTO members (call_id, peer_id, name, resume_token_hash, joined_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (call_id, peer_id, name, resume_token_hash, now),
        )
        await self.db.commit()

    async def member_left(self, call_id: str, peer_id: str, now: float) -> None:
        await self.db.execute(
            "UPDATE members SET left_at = ? WHERE call_id = ? AND peer_id = ? AND left_at IS NULL",
            (now, call_id, peer_id),
        )
        await self.db.commit()

    async def get_member(self, call_id: str, peer_id: str) -> MemberRecord | None:
        async with self.db.execute(
            "SELECT call_id, peer_id, name, resume_token_hash, left_at FROM members"
            " WHERE call_id = ? AND peer_id = ?",
            (call_id, peer_id),
        ) as cursor:
            row = await cursor.fetchone()
        return MemberRecord(*row) if row else None
