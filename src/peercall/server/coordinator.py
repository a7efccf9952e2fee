"""Who is in which call and what each member is owed, behind one interface.

The signaling hub (`signaling.py`) speaks to clients: validation, limits, passcodes.
A coordinator keeps the members, routes their signals and numbers what each one is
sent, so that a member can resume on a new connection without losing a message.
Two of them: `LocalCoordinator` keeps it all in this process (one server, SQLite for
what must survive a restart); `RedisCoordinator` keeps it in Redis, so that several
server processes serve the same calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from peercall.protocol import LeaveReason, PeerInfo, PreparedAnswer, RelayedOffer, Signal
from peercall.server.connection import Connection


@dataclass(frozen=True, slots=True)
class Entry:
    """A new member's place: its id, who was there, the token to resume it, and
    whose open offers took its prepared answers."""

    peer_id: str
    peers: list[PeerInfo]
    resume_token: str
    answered: list[str] = field(default_factory=list)


class Coordinator(Protocol):
    capacity: int

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raises if calls cannot be served now (for `/readyz`)."""

    async def open_offers(self, call_id: str) -> list[RelayedOffer]:
        """The members' open offers, for `look` (raises `call-full`)."""

    async def join(
        self, call_id: str, name: str, answers: Mapping[str, PreparedAnswer] | None = None
    ) -> Entry:
        """A new member (raises `call-full`). What the others owe it (an open offer)
        waits until `attach`, so that it comes after the member's `joined`.
        `answers`: see `CallRoster.join`."""

    async def resume(self, call_id: str, peer_id: str, token: str, last_seq: int) -> int | None:
        """Checks a member's claim to its place (raises `resume-failed`) and forgets
        what it has got; returns the last client seq handled, None if unknown."""

    async def attach(self, peer_id: str, connection: Connection, after_seq: int) -> None:
        """From now on the member's messages go to `connection`, starting with those
        after `after_seq` that it has not got. A connection it had before is let go."""

    async def detach(self, peer_id: str, connection: Connection) -> None:
        """The member's connection is gone: its place is kept `resume_seconds`."""

    async def relay(self, call_id: str, peer_id: str, signal: Signal) -> bool:
        """Routes a member's signal; False if it was a repeat (same client seq)."""

    async def acknowledge(self, peer_id: str, seq: int) -> None: ...

    async def leave(self, peer_id: str, reason: LeaveReason) -> None:
        """The member leaves (for good); the others are told."""

    async def member_count(self, call_id: str) -> int: ...

    async def members_by_call_key(self) -> dict[str, int]:
        """How many are in each call somebody is in, by store key (`store.call_key`)."""

    # For /metrics, each read at every scrape: what this process knows of.
    def call_count(self) -> int: ...

    def members_served(self) -> int: ...

    def queued_signals(self) -> int: ...
