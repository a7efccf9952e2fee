"""Calls kept in this process: the default, for one server.

Members and their messages live in memory (`CallRoster`, `MemberLink`); who is in
which call, with a hash of each resume token, is also written to the store, so that
after a restart people can take their places back (`resume`) and the call goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from peercall.config import Settings
from peercall.logs import call_label, log_event, short_id
from peercall.protocol import (
    ErrorCode,
    LeaveReason,
    PreparedAnswer,
    ProtocolError,
    RelayedOffer,
    Signal,
)
from peercall.server.calls import CallRoster, Delivery
from peercall.server.connection import Connection
from peercall.server.coordinator import Entry
from peercall.server.members import MemberLink, new_resume_token, token_hash
from peercall.server.store import CallStore, call_key, store_safely

logger = logging.getLogger("peercall.signaling")


class LocalCoordinator:
    """A member (`MemberLink`) outlives its connection for `resume_seconds`: while it
    is away, what is sent to it is numbered and kept, and `resume` on a new
    connection delivers it all, in order, once."""

    def __init__(
        self, settings: Settings, store: CallStore, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.capacity = settings.call_capacity
        self.roster = CallRoster(settings.call_capacity, settings.max_queued_signals)
        self._links: dict[str, MemberLink] = {}  # by peer id: everybody in a call
        self._connections: dict[str, Connection] = {}  # by peer id: those connected now
        self._expiries: dict[str, asyncio.TimerHandle] = {}  # by peer id: those away

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        for expiry in self._expiries.values():
            expiry.cancel()

    async def ping(self) -> None:
        await self.store.ping()

    async def open_offers(self, call_id: str) -> list[RelayedOffer]:
        return self.roster.open_offers(call_id)

    async def join(
        self, call_id: str, name: str, answers: Mapping[str, PreparedAnswer] | None = None
    ) -> Entry:
        result = self.roster.join(call_id, name, answers)
        peer_id = result.member.peer_id
        token = new_resume_token()
        hashed = token_hash(token)
        self._links[peer_id] = MemberLink(
            call_id, peer_id, hashed, max_unacknowledged=self.settings.max_queued_signals
        )
        # Kept (numbered) for the newcomer until `attach`, after its `joined`.
        self._deliver(result.deliveries)
        await store_safely(
            "add member", self.store.add_member(call_id, peer_id, name, hashed, self.clock())
        )
        return Entry(peer_id, result.peers, token, result.answered)

    async def resume(self, call_id: str, peer_id: str, token: str, last_seq: int) -> int | None:
        link = self._links.get(peer_id) or await self._restore(call_id, peer_id, token, last_seq)
        if link.call_id != call_id or not link.holds_token(token):
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        if link.replay_after(last_seq) is None:
            # Something it missed is gone: its place cannot be made whole.
            await self.leave(peer_id, "disconnected")
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        return link.last_received

    async def _restore(self, call_id: str, peer_id: str, token: str, last_seq: int) -> MemberLink:
        """A member this process does not know: it was there before a restart."""
        record = await self.store.get_member(call_id, peer_id)
        call = await self.store.get_call(call_id)
        if record is None or record.left_at is not None or call is None or call.ended:
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        link = MemberLink(
            call_id,
            peer_id,
            record.resume_token_hash,
            # Numbering goes on from what the member has; what it sent is unknown.
            next_seq=last_seq + 1,
            last_received=None,
            max_unacknowledged=self.settings.max_queued_signals,
        )
        if not link.holds_token(token):
            raise ProtocolError(ErrorCode.RESUME_FAILED)
        try:
            self.roster.restore(call_id, peer_id, record.name)
        except ProtocolError:
            raise ProtocolError(ErrorCode.RESUME_FAILED) from None
        self._links[peer_id] = link
        return link

    async def attach(self, peer_id: str, connection: Connection, after_seq: int) -> None:
        link = self._links[peer_id]
        previous = self._connections.get(peer_id)
        if previous is not None and previous is not connection:
            # The old socket is dead but not yet noticed: the new one takes over.
            previous.call_id = previous.peer_id = None
            previous.finish_writing()
        self._connections[peer_id] = connection
        expiry = self._expiries.pop(peer_id, None)
        if expiry is not None:
            expiry.cancel()
        link.acknowledge(after_seq)
        for message in link.unacknowledged:
            connection.send(message)

    async def detach(self, peer_id: str, connection: Connection) -> None:
        if self._connections.get(peer_id) is not connection:
            return
        del self._connections[peer_id]
        if self.settings.resume_seconds <= 0:
            await self.leave(peer_id, "disconnected")
            return
        loop = asyncio.get_running_loop()
        self._expiries[peer_id] = loop.call_later(
            self.settings.resume_seconds, lambda: loop.create_task(self._expire(peer_id))
        )

    async def _expire(self, peer_id: str) -> None:
        if peer_id not in self._connections:
            await self.leave(peer_id, "disconnected")

    async def relay(self, call_id: str, peer_id: str, signal: Signal) -> bool:
        if not self._links[peer_id].is_new(signal.seq):
            return False  # sent again after a drop; handled already
        self._deliver(self.roster.relay(call_id, peer_id, signal))
        return True

    async def acknowledge(self, peer_id: str, seq: int) -> None:
        self._links[peer_id].acknowledge(seq)

    async def leave(self, peer_id: str, reason: LeaveReason) -> None:
        link = self._links.pop(peer_id, None)
        expiry = self._expiries.pop(peer_id, None)
        if expiry is not None:
            expiry.cancel()
        connection = self._connections.pop(peer_id, None)
        if connection is not None:
            connection.call_id = connection.peer_id = None
        if link is None:
            return
        self._deliver(self.roster.leave(link.call_id, peer_id, reason))
        key = call_key(link.call_id)
        log_event(logger, "leave", call=call_label(key), peer=short_id(peer_id), reason=reason)
        now = self.clock()
        await store_safely("member left", self.store.member_left(link.call_id, peer_id, now))
        await store_safely("record leave", self.store.record_event(key, "leave", peer_id, now))

    async def member_count(self, call_id: str) -> int:
        return self.roster.member_count(call_id)

    async def members_by_call_key(self) -> dict[str, int]:
        return self.roster.members_by_call_key()

    def call_count(self) -> int:
        return self.roster.call_count

    def members_served(self) -> int:
        return len(self._links)

    def queued_signals(self) -> int:
        return self.roster.held_signals() + sum(
            len(link.unacknowledged) for link in self._links.values()
        )

    def _deliver(self, deliveries: Iterable[Delivery]) -> None:
        """Numbers each message for its recipient and sends it if connected; a member
        who is away gets it on `resume`."""
        for delivery in deliveries:
            link = self._links.get(delivery.to)
            if link is None:
                continue
            numbered = link.number(delivery.message)
            recipient = self._connections.get(delivery.to)
            if recipient is not None:
                recipient.send(numbered)
