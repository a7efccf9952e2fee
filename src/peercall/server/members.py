"""A member's link to the server, across connections: numbering, replay, duplicates.

A phone changing networks drops its WebSocket; the person is still in the call. So a
member outlives its connection for `resume_seconds`. Every call message the server
sends a member gets the next `seq`; the member acknowledges what it got (`ack`), and
on a new connection (`resume`) says the last `seq` it has: everything after it is sent
again, in order, exactly once. The other way, a client numbers its signals and the
server ignores a number it has already handled, so sending again after a drop cannot
duplicate anything. No sockets here: `signaling.py` does the I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

import msgspec

from peercall.config import DEFAULT_MAX_QUEUED_SIGNALS
from peercall.protocol import ServerMessage


def new_resume_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Only a hash is kept (and stored): a database leak does not hand out places."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(slots=True)
class MemberLink:
    call_id: str
    peer_id: str
    resume_token_hash: str
    next_seq: int = 1
    # The highest client seq handled; None after a restart, when it is unknown.
    last_received: int | None = 0
    # A list, not a deque: most members have nothing waiting, and an empty deque
    # costs ~700 bytes where an empty list costs 56 (idle members are most of them).
    unacknowledged: list[ServerMessage] = field(default_factory=list)
    overflowed: bool = False  # some unacknowledged message was dropped: no resume
    # Messages kept until acknowledged (the server passes `max_queued_signals`). A
    # call's set-up is a few dozen; a member that lets more pile up cannot be resumed
    # (it joins again).
    max_unacknowledged: int = DEFAULT_MAX_QUEUED_SIGNALS

    def number(self, message: ServerMessage) -> ServerMessage:
        """Gives `message` the next seq and keeps it until acknowledged."""
        numbered = msgspec.structs.replace(message, seq=self.next_seq)  # type: ignore[type-var]
        self.next_seq += 1
        self.unacknowledged.append(numbered)
        if len(self.unacknowledged) > self.max_unacknowledged:
            del self.unacknowledged[0]
            self.overflowed = True
        return numbered

    def acknowledge(self, seq: int) -> None:
        received = 0
        for message in self.unacknowledged:
            if _seq(message) > seq:
                break
            received += 1
        del self.unacknowledged[:received]

    def replay_after(self, last_seq: int) -> list[ServerMessage] | None:
        """What the member has not got, in order; None if some of it is gone."""
        if last_seq >= self.next_seq:
            return None  # claims messages never sent
        oldest_kept = _seq(self.unacknowledged[0]) if self.unacknowledged else self.next_seq
        if self.overflowed and last_seq + 1 < oldest_kept:
            return None
        self.acknowledge(last_seq)
        return list(self.unacknowledged)

    def is_new(self, client_seq: int | None) -> bool:
        """False for a client message already handled (sent again after a drop)."""
        if client_seq is None:
            return True
        if self.last_received is not None and client_seq <= self.last_received:
            return False
        self.last_received = client_seq
        return True

    def holds_token(self, token: str) -> bool:
        return hmac.compare_digest(token_hash(token), self.resume_token_hash)


def _seq(message: ServerMessage) -> int:
    seq = getattr(message, "seq", None)
    assert seq is not None, "only numbered messages are kept"
    return int(seq)
