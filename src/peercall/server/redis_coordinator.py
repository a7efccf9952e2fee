"""Calls kept in Redis, so that several peercall processes serve the same calls.

Any process can take any request: a call made on one, joined on another, a member
whose process died resuming on a third. What lives in Redis (keys under `peercall:`):

- `roster:{call key}`: the call's members and open offers (`calls.Call`, JSON),
  changed only in a WATCH/MULTI transaction, with the messages the change causes;
- `member:{peer}`: the member's call key, resume token hash, last client seq handled
  and the connection that has it now (`conn` = "{process}/{n}", empty while away);
- `inbox:{peer}`: every message the member is sent, numbered: a stream whose entry
  ids are the `seq`s. It is the member's resume buffer (trimmed by `ack`), so a
  message is never only in a process's memory;
- `seq:{peer}`: the last seq given;
- `away`: members without a connection, by the time their place is given up;
- `process:{id}` (expires unless renewed) and `process:{id}:members`: who serves whom,
  so that the members of a process that died are given their `resume_seconds`.

Fan-out: adding a message to an inbox (one Lua script, atomically with its number)
publishes it on the channel of the process holding the member's connection. Each
process subscribes to its own channel only, sends what it gets in seq order, and
reads the inbox for any gap (a message published while it was reconnecting to
Redis, say). Pub/sub is only the fast path; the inbox is the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import msgspec
import redis.asyncio as redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from peercall.config import Settings
from peercall.logs import call_label, log_event, short_id
from peercall.protocol import (
    NEXT_PEER,
    ErrorCode,
    LeaveReason,
    PreparedAnswer,
    ProtocolError,
    RelayedOffer,
    ServerMessage,
    Signal,
    relayed,
)
from peercall.server.calls import Call, CallRoster, Delivery
from peercall.server.connection import Connection
from peercall.server.coordinator import Entry
from peercall.server.members import new_resume_token, token_hash
from peercall.server.store import CallStore, call_key, store_safely
from peercall.server.store.redis import PREFIX, connect

logger = logging.getLogger("peercall.redis")

AWAY = PREFIX + "away"
PROCESSES = PREFIX + "processes"
LIVE_CALLS = PREFIX + "live-calls"  # call key -> members
# A process renews its key this often; one silent for PROCESS_TTL is taken as dead.
HEARTBEAT_SECONDS = 2.0
PROCESS_TTL_SECONDS = 6
SWEEP_SECONDS = 1.0
READY_TIMEOUT_SECONDS = 2.0
# What redis-py raises when Redis cannot be reached (after the client's retries).
REDIS_OUT_OF_REACH = (RedisConnectionError, RedisTimeoutError, OSError)

# Numbers a message for a member, keeps it in the member's inbox and publishes it to
# the process holding the member's connection. Shared by the scripts below; `member`,
# `seq_key`, `inbox` are the member's keys, `message` JSON (an object, without seq).
NUMBER_AND_SEND = """
local function number_and_send(member, seq_key, inbox, message, limit, prefix, peer)
  local seq = redis.call('INCR', seq_key)
  local numbered = string.sub(message, 1, -2) .. ',"seq":' .. seq .. '}'
  redis.call('XADD', inbox, seq .. '-1', 'm', numbered)
  if redis.call('XLEN', inbox) > tonumber(limit) then
    redis.call('XTRIM', inbox, 'MAXLEN', limit)
    redis.call('HSET', member, 'overflowed', '1')
  end
  local conn = redis.call('HGET', member, 'conn')
  if conn and conn ~= '' then
    local process = string.match(conn, '^([^/]+)/')
    redis.call('PUBLISH', prefix .. process, 'm ' .. peer .. ' ' .. numbered)
  end
  return seq
end
"""
# One message to a member, if it is still there. KEYS: member, seq, inbox.
# ARGV: message, inbox limit, channel prefix, peer id.
DELIVER = (
    NUMBER_AND_SEND
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return number_and_send(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
"""
)
# A member's signal to another member of its call, in one round trip (the hot path).
# KEYS: sender, recipient, recipient's seq, recipient's inbox. ARGV: call key, client
# seq ("" if none), message, inbox limit, channel prefix, recipient id.
# Returns 1 relayed, 0 a repeat, -1 sender not in the call, -2 recipient not in it.
RELAY = (
    NUMBER_AND_SEND
    + """
local sender = redis.call('HMGET', KEYS[1], 'call_key', 'last_received')
if sender[1] ~= ARGV[1] then return -1 end
if ARGV[2] ~= '' and sender[2] and tonumber(ARGV[2]) <= tonumber(sender[2]) then return 0 end
if redis.call('HGET', KEYS[2], 'call_key') ~= ARGV[1] then return -2 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'last_received', ARGV[2]) end
number_and_send(KEYS[2], KEYS[3], KEYS[4], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
return 1
"""
)
# The member's connection `ARGV[1]` is gone: if it still has the member, the member is
# away until ARGV[2]. KEYS: member, away. ARGV: connection, deadline, peer id.
MARK_AWAY = """
if redis.call('HGET', KEYS[1], 'conn') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'conn', '')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# Every member a dead process held gets its place kept until ARGV[2].
# KEYS: the process's member set, away. ARGV: process id, deadline, member key prefix.
ORPHANS_AWAY = """
local members = redis.call('SMEMBERS', KEYS[1])
for _, peer in ipairs(members) do
  local key = ARGV[3] .. peer
  local conn = redis.call('HGET', key, 'conn')
  if conn and string.sub(conn, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '/' then
    redis.call('HSET', key, 'conn', '')
    redis.call('ZADD', KEYS[2], ARGV[2], peer)
  end
end
redis.call('DEL', KEYS[1])
return #members
"""

_message_encoder = msgspec.json.Encoder()


def _member(peer_id: str) -> str:
    return f"{PREFIX}member:{peer_id}"


def _seq(peer_id: str) -> str:
    return f"{PREFIX}seq:{peer_id}"


def _inbox(peer_id: str) -> str:
    return f"{PREFIX}inbox:{peer_id}"


def _roster(key: str) -> str:
    return f"{PREFIX}roster:{key}"


def _process(process_id: str) -> str:
    return f"{PREFIX}process:{process_id}"


def _process_members(process_id: str) -> str:
    return f"{PREFIX}process:{process_id}:members"


def _channel(process_id: str) -> str:
    return f"{PREFIX}to:{process_id}"


def _seq_of(numbered: str) -> int:
    """The seq DELIVER put at the end of a numbered message."""
    return int(numbered[numbered.rindex('"seq":') + 6 : -1])


@dataclass(slots=True)
class Attachment:
    """A member whose connection this process holds."""

    connection: Connection
    conn_id: str
    call_key: str
    last_sent: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RedisCoordinator:
    def __init__(
        self, settings: Settings, store: CallStore, clock: Callable[[], float] = time.time
    ) -> None:
        assert settings.redis_url, "needs redis_url"
        self.settings = settings
        self.store = store
        self.clock = clock
        self.capacity = settings.call_capacity
        self.process_id = secrets.token_hex(6)
        self.redis: redis.Redis = connect(settings.redis_url)
        # Not retried behind our back: after a reconnection the inboxes must be read
        # for what was published meanwhile (see `_pump`).
        self._subscriber: redis.Redis = connect(settings.redis_url, retries=0)
        self._deliver = self.redis.register_script(DELIVER)
        self._relay = self.redis.register_script(RELAY)
        self._mark_away = self.redis.register_script(MARK_AWAY)
        self._orphans_away = self.redis.register_script(ORPHANS_AWAY)
        self._attachments: dict[str, Attachment] = {}
        self._joined: dict[str, str] = {}  # joined, not yet attached: their connection id
        # Members whose socket closed while Redis was out of reach: their connection id,
        # to give their place up once it is back (see `detach`).
        self._unfinished_detaches: dict[str, str] = {}
        self._connection_numbers = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._queued = 0  # in the inboxes of members this process serves (for /metrics)

    # --- lifetime ---------------------------------------------------------------------

    async def start(self) -> None:
        await self._heartbeat()
        log_event(logger, "server-up", server=self.process_id)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._pump()), loop.create_task(self._sweep())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # A clean stop hands this process's members over at once.
        with contextlib.suppress(Exception):
            await self._give_up_process(self.process_id)
        await self.redis.aclose()
        await self._subscriber.aclose()

    async def ping(self) -> None:
        # Readiness must answer soon: a reconnection or two, not the whole backoff.
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await self.redis.ping()

    # --- membership -------------------------------------------------------------------

    async def open_offers(self, call_id: str) -> list[RelayedOffer]:
        key = call_key(call_id)
        return (await self._load(self.redis, key)).open_offers(key)

    async def join(
        self, call_id: str, name: str, answers: Mapping[str, PreparedAnswer] | None = None
    ) -> Entry:
        key = call_key(call_id)
        token = new_resume_token()
        # The member is this process's from the start: should the process die before
        # `attach`, the member is still found among its members and given up in time.
        conn_id = self._new_conn_id()

        async def change(pipe: Pipeline) -> Entry:
            roster = await self._load(pipe, key)
            result = roster.join(key, name, answers)
            peer_id = result.member.peer_id
            pipe.multi()
            self._save(pipe, roster, key)
            pipe.hset(
                _member(peer_id),
                mapping={
                    "call_key": key,
                    "name": name,
                    "token_hash": token_hash(token),
                    "last_received": 0,
                    "conn": conn_id,
                },
            )
            pipe.sadd(_process_members(self.process_id), peer_id)
            await self._queue(pipe, result.deliveries)
            return Entry(peer_id, result.peers, token, result.answered)

        entry = await self.redis.transaction(change, _roster(key), value_from_callable=True)
        self._joined[entry.peer_id] = conn_id
        return entry

    def _new_conn_id(self) -> str:
        return f"{self.process_id}/{next(self._connection_numbers)}"

    async def resume(self, call_id: str, peer_id: str, token: str, last_seq: int) -> int | None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(_member(peer_id), "call_key", "token_hash", "last_received", "overflowed")
            pipe.get(_seq(peer_id))
            pipe.xrange(_inbox(peer_id), count=1)
            (key, stored_hash, last_received, overflowed), seq, first = await pipe.execute()
        if (
            key != call_key(call_id)
            or stored_hash is None
            or not hmac.compare_digest(token_hash(token), stored_hash)
        ):
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        next_seq = int(seq or 0) + 1
        oldest_kept = int(first[0][0].split("-")[0]) if first else next_seq
        if last_seq >= next_seq or (overflowed and last_seq + 1 < oldest_kept):
            # It claims messages never sent, or something it missed is gone.
            await self.leave(peer_id, "disconnected")
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        await self.redis.xtrim(_inbox(peer_id), minid=f"{last_seq + 1}-0")
        return int(last_received) if last_received is not None else None

    async def attach(self, peer_id: str, connection: Connection, after_seq: int) -> None:
        # Kept among the joined until attached: should this fail, `detach` finds it
        # there and lets its place go in time (it was kept for ever).
        conn_id = self._joined.get(peer_id) or self._new_conn_id()
        # Back here before its last socket was let go (Redis was out of reach): that
        # socket's place is this one now, not to be given up.
        self._unfinished_detaches.pop(peer_id, None)
        key = await self.redis.hget(_member(peer_id), "call_key")
        if key is None:
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        attachment = Attachment(connection, conn_id, key, after_seq)
        async with attachment.lock:
            self._let_go_here(peer_id, keep=connection)
            self._attachments[peer_id] = attachment
            self._joined.pop(peer_id, None)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hget(_member(peer_id), "conn")
                pipe.hset(_member(peer_id), "conn", conn_id)
                pipe.zrem(AWAY, peer_id)
                pipe.sadd(_process_members(self.process_id), peer_id)
                previous, *_ = await pipe.execute()
            if previous and not previous.startswith(self.process_id + "/"):
                # Another process had it (a socket it has not noticed is dead): let go.
                other = previous.split("/", 1)[0]
                await self.redis.publish(_channel(other), f"t {peer_id} {conn_id}")
            await self._catch_up(peer_id, attachment)

    async def detach(self, peer_id: str, connection: Connection) -> None:
        attachment = self._attachments.get(peer_id)
        if attachment is not None and attachment.connection is connection:
            del self._attachments[peer_id]
            conn_id = attachment.conn_id
        elif peer_id in self._joined:  # joined, but `attach` failed (Redis, say)
            conn_id = self._joined.pop(peer_id)
        else:
            return
        try:
            await self._let_place_go(peer_id, conn_id)
        except REDIS_OUT_OF_REACH:
            # Otherwise Redis would keep the member here for ever, in its seat, and
            # nobody would be told it left: the sweeper tries again until it works.
            self._unfinished_detaches[peer_id] = conn_id
            raise

    async def _let_place_go(self, peer_id: str, conn_id: str) -> None:
        """The member's connection `conn_id` is gone: it is away for `resume_seconds`
        (if no other connection has it by now), or leaves at once without resuming."""
        if self.settings.resume_seconds <= 0:
            await self.leave(peer_id, "disconnected")
            return
        deadline = self.clock() + self.settings.resume_seconds
        await self._mark_away(keys=[_member(peer_id), AWAY], args=[conn_id, deadline, peer_id])
        await self.redis.srem(_process_members(self.process_id), peer_id)

    async def _finish_detaches(self) -> None:
        for peer_id, conn_id in list(self._unfinished_detaches.items()):
            await self._let_place_go(peer_id, conn_id)
            del self._unfinished_detaches[peer_id]

    async def relay(self, call_id: str, peer_id: str, signal: Signal) -> bool:
        key = call_key(call_id)
        if signal.to != NEXT_PEER:
            # To a member: checked, numbered and sent in one script.
            if signal.to == peer_id:
                raise ProtocolError(ErrorCode.UNKNOWN_PEER)
            outcome = await self._relay(
                keys=[_member(peer_id), _member(signal.to), _seq(signal.to), _inbox(signal.to)],
                args=[
                    key,
                    "" if signal.seq is None else signal.seq,
                    _encode(relayed(signal, peer_id)),
                    self.settings.max_queued_signals,
                    PREFIX + "to:",
                    signal.to,
                ],
            )
            if outcome == -1:
                raise ProtocolError(ErrorCode.NOT_IN_CALL)
            if outcome == -2:
                raise ProtocolError(ErrorCode.UNKNOWN_PEER)
            return outcome == 1

        # To "next": the open offers, part of the roster, change (in a transaction).
        member = await self.redis.hmget(_member(peer_id), "call_key", "last_received")
        if member[0] != key:
            raise ProtocolError(ErrorCode.NOT_IN_CALL)
        last_received = member[1]
        repeated = (
            signal.seq is not None
            and last_received is not None
            and signal.seq <= int(last_received)
        )
        if repeated:
            return False  # sent again after a drop; handled already

        async def change(pipe: Pipeline) -> None:
            roster = await self._load(pipe, key)
            deliveries = roster.relay(key, peer_id, signal)
            pipe.multi()
            self._save(pipe, roster, key)
            self._note_received(pipe, peer_id, signal)
            await self._queue(pipe, deliveries)

        await self.redis.transaction(change, _roster(key))
        return True

    def _note_received(self, pipe: Pipeline, peer_id: str, signal: Signal) -> None:
        if signal.seq is not None:
            pipe.hset(_member(peer_id), "last_received", signal.seq)

    async def acknowledge(self, peer_id: str, seq: int) -> None:
        await self.redis.xtrim(_inbox(peer_id), minid=f"{seq + 1}-0")

    async def leave(self, peer_id: str, reason: LeaveReason) -> None:
        attachment = self._attachments.pop(peer_id, None)
        if attachment is not None:
            attachment.connection.call_id = attachment.connection.peer_id = None
        key = await self.redis.hget(_member(peer_id), "call_key")
        if key is None:
            return

        async def change(pipe: Pipeline) -> None:
            roster = await self._load(pipe, key)
            deliveries = roster.leave(key, peer_id, reason)
            pipe.multi()
            self._save(pipe, roster, key)
            pipe.delete(_member(peer_id), _seq(peer_id), _inbox(peer_id))
            pipe.zrem(AWAY, peer_id)
            pipe.srem(_process_members(self.process_id), peer_id)
            await self._queue(pipe, deliveries)

        await self.redis.transaction(change, _roster(key))
        log_event(logger, "leave", call=call_label(key), peer=short_id(peer_id), reason=reason)
        await store_safely(
            "record leave", self.store.record_event(key, "leave", peer_id, self.clock())
        )

    async def member_count(self, call_id: str) -> int:
        count = await self.redis.hget(LIVE_CALLS, call_key(call_id))
        return int(count or 0)

    async def members_by_call_key(self) -> dict[str, int]:
        return {key: int(count) for key, count in (await self.redis.hgetall(LIVE_CALLS)).items()}

    # What this process serves: its members' calls, its members, their inboxes.
    def call_count(self) -> int:
        return len({attachment.call_key for attachment in self._attachments.values()})

    def members_served(self) -> int:
        return len(self._attachments)

    def queued_signals(self) -> int:
        return self._queued

    # --- the roster, read and written in transactions ---------------------------------

    async def _load(self, client: redis.Redis | Pipeline, key: str) -> CallRoster:
        """The call as stored (`client`: a pipeline WATCHing it, inside a transaction)."""
        blob = await client.get(_roster(key))
        call = msgspec.json.decode(blob, type=Call) if blob else Call(key, self.capacity)
        roster = CallRoster(self.capacity, self.settings.max_queued_signals)
        roster.adopt(call)
        return roster

    def _save(self, pipe: Pipeline, roster: CallRoster, key: str) -> None:
        call = roster.call(key)
        if call is None or not call.members:
            pipe.delete(_roster(key))
            pipe.hdel(LIVE_CALLS, key)
        else:
            pipe.set(_roster(key), msgspec.json.encode(call))
            pipe.hset(LIVE_CALLS, key, len(call.members))

    async def _queue(self, pipe: Pipeline, deliveries: list[Delivery]) -> None:
        """Adds the deliveries to the transaction (queued, run at EXEC)."""
        for delivery in deliveries:
            await self._deliver(
                keys=[_member(delivery.to), _seq(delivery.to), _inbox(delivery.to)],
                args=[
                    _encode(delivery.message),
                    self.settings.max_queued_signals,
                    PREFIX + "to:",
                    delivery.to,
                ],
                client=pipe,
            )

    # --- fan-out to this process's connections ----------------------------------------

    async def _pump(self) -> None:
        """Reads this process's channel for ever, reconnecting as needed."""
        backoff = 0.1
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await pubsub.subscribe(_channel(self.process_id))
                # Whatever was published while we were not listening is in the inboxes.
                for peer_id, attachment in list(self._attachments.items()):
                    async with attachment.lock:
                        await self._catch_up(peer_id, attachment)
                backoff = 0.1
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None:
                        await self._on_published(message["data"])
            except asyncio.CancelledError:
                raise
            except REDIS_OUT_OF_REACH as exc:
                logger.warning("lost Redis (%s); reconnecting", type(exc).__name__)
            except Exception:
                logger.exception("fan-out failed; starting again")
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def _on_published(self, data: str) -> None:
        kind, peer_id, rest = data.split(" ", 2)
        attachment = self._attachments.get(peer_id)
        if attachment is None:
            return  # not ours (any more): it is in the inbox for whoever resumes it
        if kind == "t":
            if attachment.conn_id != rest:
                self._let_go_here(peer_id)
            return
        async with attachment.lock:
            if self._attachments.get(peer_id) is not attachment:
                return
            seq = _seq_of(rest)
            if seq <= attachment.last_sent:
                return
            if seq == attachment.last_sent + 1:
                attachment.connection.send_text(rest)
                attachment.last_sent = seq
            else:
                await self._catch_up(peer_id, attachment)

    async def _catch_up(self, peer_id: str, attachment: Attachment) -> None:
        """Sends what the member's inbox holds after what it has (hold its lock)."""
        entries = await self.redis.xrange(_inbox(peer_id), min=f"{attachment.last_sent + 1}-0")
        for entry_id, fields in entries:
            seq = int(entry_id.split("-")[0])
            if seq > attachment.last_sent:
                attachment.connection.send_text(fields["m"])
                attachment.last_sent = seq

    def _let_go_here(self, peer_id: str, keep: Connection | None = None) -> None:
        attachment = self._attachments.get(peer_id)
        if attachment is None or attachment.connection is keep:
            return
        del self._attachments[peer_id]
        old = attachment.connection
        old.call_id = old.peer_id = None
        old.finish_writing()

    # --- places kept, and given up ----------------------------------------------------

    async def _heartbeat(self) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(_process(self.process_id), 1, ex=PROCESS_TTL_SECONDS)
            pipe.sadd(PROCESSES, self.process_id)
            await pipe.execute()

    async def _sweep(self) -> None:
        # `start` renewed the heartbeat just now.
        last_heartbeat = time.monotonic()
        judge_from = 0.0  # no other process is taken as dead before this
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                now = time.monotonic()
                if now - last_heartbeat >= HEARTBEAT_SECONDS:
                    await self._heartbeat()
                    renewed = time.monotonic()
                    if renewed - last_heartbeat > PROCESS_TTL_SECONDS:
                        # Ours lapsed (Redis was out of reach), so did everybody's: give
                        # them a whole TTL to renew theirs before taking any as dead,
                        # or every process would give up every other's members.
                        judge_from = renewed + PROCESS_TTL_SECONDS
                    last_heartbeat = renewed
                await self._finish_detaches()
                if time.monotonic() >= judge_from:
                    await self._give_up_dead_processes()
                await self._expire_away()
                await self._check_inboxes()
            except asyncio.CancelledError:
                raise
            except REDIS_OUT_OF_REACH as exc:
                logger.warning("sweep failed: Redis unreachable (%s)", type(exc).__name__)
            except Exception:
                logger.exception("sweep failed; trying again")

    async def _give_up_dead_processes(self) -> None:
        for process_id in await self.redis.smembers(PROCESSES):
            if process_id != self.process_id and not await self.redis.exists(_process(process_id)):
                await self._give_up_process(process_id)

    async def _give_up_process(self, process_id: str) -> None:
        """A process is gone: its members are away, with `resume_seconds` to come back."""
        if await self.redis.srem(PROCESSES, process_id) == 0:
            return  # another process got there first
        orphans = await self._orphans_away(
            keys=[_process_members(process_id), AWAY],
            args=[process_id, self.clock() + self.settings.resume_seconds, PREFIX + "member:"],
        )
        log_event(logger, "server-gone", server=process_id, members=orphans)

    async def _expire_away(self) -> None:
        for peer_id in await self.redis.zrangebyscore(AWAY, "-inf", self.clock(), 0, 100):
            if await self.redis.zrem(AWAY, peer_id):  # one process gives each place up
                await self.leave(peer_id, "disconnected")

    async def _check_inboxes(self) -> None:
        """Counts what waits in our members' inboxes (for /metrics), and sends what a
        member has not got: a publication can be lost while the subscriber
        reconnects, with nothing after it to reveal the gap."""
        peers = list(self._attachments)
        async with self.redis.pipeline(transaction=False) as pipe:
            for peer_id in peers:
                pipe.xlen(_inbox(peer_id))
                pipe.get(_seq(peer_id))
            answers = await pipe.execute()
        self._queued = sum(answers[0::2])
        for peer_id, newest in zip(peers, answers[1::2], strict=True):
            attachment = self._attachments.get(peer_id)
            if attachment is None or int(newest or 0) <= attachment.last_sent:
                continue
            async with attachment.lock:
                if self._attachments.get(peer_id) is attachment:
                    await self._catch_up(peer_id, attachment)


def _encode(message: ServerMessage) -> str:
    return _message_encoder.encode(message).decode()
