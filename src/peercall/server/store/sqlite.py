"""The embedded default store: one SQLite file in the data dir, through aiosqlite.

Writes of the call's history and membership are gathered for `FLUSH_DELAY` seconds
and written in one transaction (a handful of `executemany`): a call's set-up causes a
few of them, and one commit each made storage the server's main cost under load.
Until they are flushed, the store answers from what it has gathered (reads that need
them flush first). Creating a call is written at once: its link is handed out next.
A crash loses at most the last `FLUSH_DELAY` of history, like the signals in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
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
CREATE INDEX IF NOT EXISTS ended_calls_by_time ON calls(ended_at) WHERE ended_at IS NOT NULL;
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


# Each flush writes every page it changed (about four per call it touched) to the
# WAL, however few rows changed on it: flushing every 0.5 s rather than every 0.05 s
# made a call set-up 5 % cheaper under load (benchmarks/README.md).
FLUSH_DELAY = 0.5
# Calls looked up lately, by key: joins of a live call need no query.
CACHED_CALLS = 10_000
# Calls forgotten per transaction: the writes of calls in progress wait behind it.
FORGET_BATCH = 500
logger = logging.getLogger("peercall.store")


@dataclass(slots=True)
class PendingWrites:
    """What is waiting for the next transaction, in the order it must be applied:
    members join before they leave, events before the activity they mark."""

    # By (call key, peer id): call key, peer id, name, token hash, joined, left. One
    # who leaves before the batch is written is written once, having left.
    members: dict[tuple[str, str], tuple[str, str, str, str, float, float | None]] = field(
        default_factory=dict
    )
    members_left: list[tuple[float, str, str]] = field(default_factory=list)
    events: list[tuple[str, float, str, str | None]] = field(default_factory=list)
    activity: dict[str, float] = field(default_factory=dict)  # key -> latest
    ended: list[tuple[float, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.members or self.members_left or self.events or self.ended)


class SqliteCallStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._pending = PendingWrites()
        self._flusher: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()  # one transaction at a time, in order
        self._calls: OrderedDict[str, CallRecord] = OrderedDict()

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
        # What is deleted (a forgotten call's names) is overwritten, not left in free
        # pages for anyone with the file to read. Debian builds SQLite so; not all do.
        await self._db.execute("PRAGMA secure_delete=ON")
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
        if self._flusher is not None:
            # Let it finish (at most FLUSH_DELAY and one write): cancelled while
            # writing, it would lose the batch it holds.
            with contextlib.suppress(Exception):
                await self._flusher
        if self._db is not None:
            await self.flush()
            await self._db.close()
            self._db = None

    async def ping(self) -> None:
        async with self.db.execute("SELECT 1") as cursor:
            await cursor.fetchone()

    # --- writes gathered and flushed together --------------------------------------

    def _soon(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        try:
            await self.flush()
        except Exception:
            # History is for the operator; a storage hiccup must not break calls.
            logger.exception("could not write the call history")

    async def flush(self) -> None:
        """Writes everything gathered so far, in one transaction."""
        async with self._flushing:
            pending, self._pending = self._pending, PendingWrites()
            if not pending:
                return
            try:
                await self._write(pending)
            except Exception:
                # No half-written batch: the next transaction starts clean.
                await self.db.rollback()
                raise

    async def _write(self, pending: PendingWrites) -> None:
        db = self.db
        await db.executemany(
            "INSERT INTO members (call_key, peer_id, name, resume_token_hash, joined_at,"
            " left_at) VALUES (?, ?, ?, ?, ?, ?)",
            pending.members.values(),
        )
        await db.executemany(
            "UPDATE members SET left_at = ? WHERE call_key = ? AND peer_id = ? AND left_at IS NULL",
            pending.members_left,
        )
        await db.executemany(
            "INSERT INTO call_events (call_key, at, kind, peer_id) VALUES (?, ?, ?, ?)",
            pending.events,
        )
        await db.executemany(
            "UPDATE calls SET last_activity = ? WHERE call_key = ?",
            [(at, key) for key, at in pending.activity.items()],
        )
        await db.executemany(
            "UPDATE calls SET ended_at = ? WHERE call_key = ? AND ended_at IS NULL",
            pending.ended,
        )
        await db.commit()

    def _event(self, key: str, kind: EventKind, peer_id: str | None, now: float) -> None:
        self._pending.events.append((key, now, kind, peer_id))
        self._soon()

    async def record_event(
        self, key: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        self._event(key, kind, peer_id, now)
        self._pending.activity[key] = max(now, self._pending.activity.get(key, now))

    async def add_member(
        self, call_id: str, peer_id: str, name: str, resume_token_hash: str, now: float
    ) -> None:
        key = call_key(call_id)
        self._pending.members[key, peer_id] = (key, peer_id, name, resume_token_hash, now, None)
        self._soon()

    async def member_left(self, call_id: str, peer_id: str, now: float) -> None:
        key = call_key(call_id)
        joined = self._pending.members.get((key, peer_id))
        if joined is not None and joined[5] is None:
            self._pending.members[key, peer_id] = (*joined[:5], now)
        else:
            self._pending.members_left.append((now, key, peer_id))
        self._soon()

    async def end_call(self, key: str, now: float) -> None:
        self._pending.ended.append((now, key))
        self._event(key, "ended", None, now)
        record = self._calls.get(key)
        if record is not None and record.ended_at is None:
            self._calls[key] = replace(record, ended_at=now)

    # --- calls -----------------------------------------------------------------------

    async def create_call(
        self, call_id: str, now: float, passcode_hash: str | None = None
    ) -> CallRecord:
        key = call_key(call_id)
        await self.db.execute(
            "INSERT INTO calls (call_key, created_at, last_activity, passcode_hash)"
            " VALUES (?, ?, ?, ?)",
            (key, now, now, passcode_hash),
        )
        await self.db.execute(
            "INSERT INTO call_events (call_key, at, kind, peer_id) VALUES (?, ?, ?, NULL)",
            (key, now, "created"),
        )
        await self.db.commit()
        record = CallRecord(key, created_at=now, last_activity=now, passcode_hash=passcode_hash)
        self._remember(record)
        return record

    async def get_call(self, call_id: str) -> CallRecord | None:
        """The call as it was created, ended or not. `last_activity` may be stale: it
        is for `idle_calls` and `open_calls`, which read the table."""
        key = call_key(call_id)
        record = self._calls.get(key)
        if record is not None:
            self._calls.move_to_end(key)
            return record
        async with self.db.execute(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE call_key = ?", (key,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        record = CallRecord(*row)
        self._remember(record)
        return record

    def _remember(self, record: CallRecord) -> None:
        self._calls[record.call_key] = record
        if len(self._calls) > CACHED_CALLS:
            self._calls.popitem(last=False)

    async def open_calls(self) -> list[CallRecord]:
        await self.flush()
        async with self.db.execute(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE ended_at IS NULL ORDER BY created_at"
        ) as cursor:
            return [CallRecord(*row) async for row in cursor]

    async def forget_ended_calls(self, ended_before: float) -> int:
        await self.flush()
        forgotten = 0
        while True:
            async with self._flushing:  # one transaction at a time
                async with self.db.execute(
                    "SELECT call_key FROM calls WHERE ended_at < ? LIMIT ?",
                    (ended_before, FORGET_BATCH),
                ) as cursor:
                    keys = [(row[0],) async for row in cursor]
                for table in ("members", "call_events", "calls"):
                    await self.db.executemany(f"DELETE FROM {table} WHERE call_key = ?", keys)
                await self.db.commit()
            for (key,) in keys:
                self._calls.pop(key, None)
            forgotten += len(keys)
            if len(keys) < FORGET_BATCH:
                return forgotten

    async def idle_calls(self, inactive_since: float) -> list[str]:
        await self.flush()
        async with self.db.execute(
            "SELECT call_key FROM calls WHERE ended_at IS NULL AND last_activity < ?",
            (inactive_since,),
        ) as cursor:
            return [row[0] async for row in cursor]

    async def events(self, call_id: str) -> list[CallEvent]:
        await self.flush()
        async with self.db.execute(
            "SELECT call_key, at, kind, peer_id FROM call_events WHERE call_key = ? ORDER BY seq",
            (call_key(call_id),),
        ) as cursor:
            return [CallEvent(*row) async for row in cursor]

    async def get_member(self, call_id: str, peer_id: str) -> MemberRecord | None:
        await self.flush()
        async with self.db.execute(
            "SELECT call_key, peer_id, name, resume_token_hash, left_at FROM members"
            " WHERE call_key = ? AND peer_id = ?",
            (call_key(call_id), peer_id),
        ) as cursor:
            row = await cursor.fetchone()
        return MemberRecord(*row) if row else None
