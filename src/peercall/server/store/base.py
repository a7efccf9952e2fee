"""What the server needs from storage: calls that outlive the process, and their history.

Live membership lives with the sockets (`calls.CallRoster`). A store answers "does
this call exist, has it ended", keeps the record of what happened, and remembers who
is in each call with a hash of their resume token, so that after a restart people
can take their places back (`resume`) and a call link keeps working.

A store never holds a call id, which is the secret in a call link, only its SHA-256
(`call_key`): a leaked database hands out no call, and a lookup compares digests,
so how long it takes says nothing about how close a guessed id came to a real one.
Methods take the call id a client named and hash it themselves.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import sqlite3
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal, Protocol

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("peercall.store")

# Call keys remembered in memory (`call_key`), with the call ids they come from: this
# process holds the ids of calls in use anyway (the roster), never the store.
CALL_KEYS_KEPT = 4096

# What a store raises when it cannot be used right now: Redis down or out of reach
# (after the client's retries, ~5 s), an SQLite file that cannot be written (disk
# full, locked). Clients are told `storage-unavailable` rather than `internal-error`,
# and the log gets one line for each, not a traceback per message.
STORAGE_UNAVAILABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    sqlite3.OperationalError,
)


def warn_storage_unavailable(log: logging.Logger, what: str, exc: BaseException) -> None:
    """One warning line about storage being out of reach while doing `what`: the
    failure's kind and what it said, no traceback (an outage would log one per
    message)."""
    log.warning("%s: storage unavailable (%s: %s)", what, type(exc).__name__, exc)


EventKind = Literal["created", "join", "leave", "ended", "resume"]


async def store_safely(what: str, work: Awaitable[None]) -> None:
    """Awaits a write of history or membership, logging a failure instead of raising:
    history is for the operator, and a storage hiccup must not break a call."""
    try:
        await work
    except STORAGE_UNAVAILABLE as exc:
        warn_storage_unavailable(logger, f"could not {what}", exc)
    except Exception:
        logger.exception("could not %s", what)


@functools.lru_cache(maxsize=CALL_KEYS_KEPT)
def call_key(call_id: str) -> str:
    """What the store keeps instead of a call id. Remembered for the calls in use:
    a set-up asked for its call's key eight times (finding the call, each join and
    leave, the history), and a SHA-256 each time was 2 % of the server's work."""
    return hashlib.sha256(call_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_key: str
    created_at: float
    last_activity: float
    ended_at: float | None = None
    # `passcodes.hash_passcode` of the call's passcode, if it has one.
    passcode_hash: str | None = None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True, slots=True)
class CallEvent:
    call_key: str
    at: float
    kind: EventKind
    peer_id: str | None = None


@dataclass(frozen=True, slots=True)
class MemberRecord:
    call_key: str
    peer_id: str
    name: str
    resume_token_hash: str
    left_at: float | None = None


class CallStore(Protocol):
    async def open(self) -> None:
        """Connect and create the schema; called once before any other method."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raises if the storage cannot be used now (for `/readyz`)."""

    async def create_call(
        self, call_id: str, now: float, passcode_hash: str | None = None
    ) -> CallRecord:
        """Record a new call and its `created` event."""

    async def get_call(self, call_id: str) -> CallRecord | None: ...

    async def record_event(
        self, key: str, kind: EventKind, peer_id: str | None, now: float
    ) -> None:
        """Append to the history of the call with this key (`call_key`) and mark it
        active at `now`."""

    async def end_call(self, key: str, now: float) -> None:
        """Mark the call ended (its link stops working) and record `ended`. By key: the
        store knows no call ids (see `idle_calls`)."""

    async def forget_ended_calls(self, ended_before: float) -> int:
        """Delete everything kept of the calls that ended before `ended_before` (their
        records, history and members): names are not kept for ever, nor does the
        storage grow for ever. Returns how many calls were forgotten."""

    async def open_calls(self) -> list[CallRecord]:
        """Calls not ended, oldest first."""

    async def idle_calls(self, inactive_since: float) -> list[str]:
        """Keys of calls not ended whose last activity is before `inactive_since`."""

    async def events(self, call_id: str) -> list[CallEvent]:
        """The call's history in the order it happened."""

    async def add_member(
        self, call_id: str, peer_id: str, name: str, resume_token_hash: str, now: float
    ) -> None:
        """Remember a member (and how it proves itself on `resume`)."""

    async def member_left(self, call_id: str, peer_id: str, now: float) -> None:
        """The member left for good: its place cannot be resumed."""

    async def get_member(self, call_id: str, peer_id: str) -> MemberRecord | None: ...
