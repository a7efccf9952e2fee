"""Calls and their history in Redis, for several peercall processes sharing calls.

Keys (all under `peercall:`): `call:{key}` a hash per call (times, passcode hash),
`calls:open` the open calls by last activity, `events:{key}` the history (JSON
lines), `member-record:{key}:{peer}` who was in it. As with SQLite, only call *keys*
(SHA-256 of the id) are kept, never the id from the link.
"""

from __future__ import annotations

import msgspec
import redis.asyncio as redis

from peercall.config import DEFAULT_HISTORY_SECONDS
from peercall.server.store.base import (
    CallEvent,
    CallRecord,
    EventKind,
    MemberRecord,
    call_key,
)

PREFIX = "peercall:"
OPEN_CALLS = PREFIX + "calls:open"


def _call(key: str) -> str:
    return f"{PREFIX}call:{key}"


def _events(key: str) -> str:
    return f"{PREFIX}events:{key}"


def _member(key: str, peer_id: str) -> str:
    return f"{PREFIX}member-record:{key}:{peer_id}"


def connect(url: str, retries: int = 8) -> redis.Redis:
    """A client that retries a command through a short outage (a Redis restart).
    `retries=0` for one whose user must know of every reconnection (pub/sub)."""
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError

    return redis.from_url(
        url,
        decode_responses=True,
        health_check_interval=10,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=retries),
        retry_on_error=[ConnectionError, TimeoutError],
    )


class RedisCallStore:
    def __init__(self, url: str, history_seconds: float = DEFAULT_HISTORY_SECONDS) -> None:
        self.url = url
        # What is left of an ended call (its record and history) expires after this.
        self.history_seconds = history_seconds
        self.redis: redis.Redis | None = None

    @property
    def _r(self) -> redis.Redis:
        assert self.redis is not None, "open() first"
        return self.redis

    async def open(self) -> None:
        self.redis = connect(self.url)
        await self.redis.ping()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    async def ping(self) -> None:
        await self._r.ping()

    async def create_call(
        self, call_id: str, now: float, passcode_hash: str | None = None
    ) -> CallRecord:
        key = call_key(call_id)
        fields = {"created_at": now, "last_activity": now}
        if passcode_hash is not None:
            fields["passcode_hash"] = passcode_hash
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(_call(key), mapping=fields)
            pipe.zadd(OPEN_CALLS, {key: now})
            pipe.rpush(_events(key), _event_line(now, "created", None))
            await pipe.execute()
        return CallRecord(key, now, now, passcode_hash=passcode_hash)

    async def get_call(self, call_id: str) -> CallRecord | None:
        key = call_key(call_id)
        fields = await self._r.hgetall(_call(key))
        return _record(key, fields) if fields else None

    async def record_event(
        self, key: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.rpush(_events(key), _event_line(now, kind, peer_id))
            pipe.hset(_call(key), "last_activity", now)
            pipe.zadd(OPEN_CALLS, {key: now}, xx=True)  # not an ended one
            await pipe.execute()

    async def end_call(self, key: str, now: float) -> None:
        # Every process sweeps idle calls: only the one that takes it off the list ends it.
        if not await self._r.zrem(OPEN_CALLS, key):
            return
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(_call(key), "ended_at", now)
            pipe.rpush(_events(key), _event_line(now, "ended", None))
            kept_ms = max(1, round(self.history_seconds * 1000))
            pipe.pexpire(_call(key), kept_ms)
            pipe.pexpire(_events(key), kept_ms)
            await pipe.execute()

    async def forget_ended_calls(self, ended_before: float) -> int:
        """Nothing to do: Redis drops an ended call by itself, `history_seconds` after
        `end_call` (its keys expire)."""
        return 0

    async def open_calls(self) -> list[CallRecord]:
        keys = await self._r.zrange(OPEN_CALLS, 0, -1)
        async with self._r.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hgetall(_call(key))
            found = await pipe.execute()
        records = [_record(key, fields) for key, fields in zip(keys, found, strict=True) if fields]
        return sorted(records, key=lambda record: record.created_at)

    async def idle_calls(self, inactive_since: float) -> list[str]:
        return list(await self._r.zrangebyscore(OPEN_CALLS, "-inf", f"({inactive_since}"))

    async def events(self, call_id: str) -> list[CallEvent]:
        key = call_key(call_id)
        lines = await self._r.lrange(_events(key), 0, -1)
        decoded = (msgspec.json.decode(line) for line in lines)
        return [CallEvent(key, at, kind, peer) for at, kind, peer in decoded]

    async def add_member(
        self, call_id: str, peer_id: str, name: str, resume_token_hash: str, now: float
    ) -> None:
        fields = {"name": name, "resume_token_hash": resume_token_hash, "joined_at": now}
        await self._r.hset(_member(call_key(call_id), peer_id), mapping=fields)

    async def member_left(self, call_id: str, peer_id: str, now: float) -> None:
        await self._r.hset(_member(call_key(call_id), peer_id), "left_at", now)

    async def get_member(self, call_id: str, peer_id: str) -> MemberRecord | None:
        key = call_key(call_id)
        fields = await self._r.hgetall(_member(key, peer_id))
        if not fields:
            return None
        left_at = fields.get("left_at")
        return MemberRecord(
            key,
            peer_id,
            fields["name"],
            fields["resume_token_hash"],
            float(left_at) if left_at else None,
        )


def _event_line(at: float, kind: EventKind, peer_id: str | None) -> str:
    return msgspec.json.encode([at, kind, peer_id]).decode()


def _record(key: str, fields: dict[str, str]) -> CallRecord:
    ended_at = fields.get("ended_at")
    return CallRecord(
        key,
        float(fields["created_at"]),
        float(fields["last_activity"]),
        float(ended_at) if ended_at else None,
        fields.get("passcode_hash"),
    )
